import { randomBytes, randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AllocationPolicy, LocationKind } from '#libs/contracts/larder/inventory/v1/locations.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { createTestProduct, startTestInventory, type TestInventory } from '../harness.js';

const DARK_STORE = LocationKind.LOCATION_KIND_DARK_STORE;
const newTag = () => `t${randomBytes(4).toString('hex')}`;

describe('locations: routing sees a change made through this replica at once (the location directory is invalidated)', function () {
  this.timeout(30_000);
  // Cached for a minute: only the invalidation can make routing see the change within the test.
  let cached: TestInventory;
  before(async () => {
    cached = await startTestInventory({ env: { LOCATION_CACHE_MS: '60000' } });
  });
  after(async () => cached?.stop());

  /** A routed reservation of one unit for a customer at this postal code: the location it came from, or the error code. */
  const routedTo = async (productId: string, postalCode: string) => {
    try {
      const { reservation } = await cached.api.reserveStock({
        orderId: randomUUID(),
        items: [{ productId, quantity: 1 }],
        destination: { postalCode },
        policy: AllocationPolicy.ALLOCATION_POLICY_SINGLE_LOCATION,
      });
      return reservation!.allocations[0]!.locationId;
    } catch (error) {
      return Code[(error as { code: Code }).code];
    }
  };

  it('CreateLocation: a new location is routed to', async () => {
    const product = await createTestProduct(cached.api, { initialStock: 0 });
    expect(await routedTo(product.id, '77001'), 'the directory is loaded, with no location serving 770').to.equal('FAILED_PRECONDITION');
    const { location } = await cached.api.createLocation({
      location: { code: `new-${newTag()}`, name: 'New', kind: DARK_STORE, delivery: true, deliveryArea: { postalCodePrefixes: ['770'] } },
    });
    // Stocked with SQL: AdjustStock would reload the directory itself, looking up a location it does not know.
    await cached.db('stock_levels').insert({ product_id: product.id, location_id: location!.id, available: 1, updated_at: new Date() });
    expect(await routedTo(product.id, '77001')).to.equal(location!.id);
  });

  it('UpdateLocation: a changed delivery area is routed by', async () => {
    const product = await createTestProduct(cached.api, { initialStock: 0 });
    const { location } = await cached.api.createLocation({
      location: {
        code: `moved-${newTag()}`,
        name: 'Moved',
        kind: DARK_STORE,
        delivery: true,
        deliveryArea: { postalCodePrefixes: ['880'] },
      },
    });
    await cached.api.adjustStock({
      productId: product.id,
      locationId: location!.id,
      delta: 1,
      reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
      idempotencyKey: randomUUID(),
    });
    expect(await routedTo(product.id, '99001')).to.equal('FAILED_PRECONDITION');
    await cached.api.updateLocation({
      location: { id: location!.id, deliveryArea: { postalCodePrefixes: ['990'] } },
      updateMask: ['delivery_area'],
    });
    expect(await routedTo(product.id, '99001')).to.equal(location!.id);
  });
});
