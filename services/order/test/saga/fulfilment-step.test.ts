import { expect } from 'chai';
import { ORDER_EVENTS } from '#libs/events/catalog.js';
import type { Fulfilment } from '../../domain/types.js';
import { EUR, PRODUCT_A, PRODUCT_B, useSagaHarness } from './saga-harness.js';

const STORE = '0190a000-0000-7000-8000-0000000005a1';
const DARK_STORE = '0190a000-0000-7000-8000-0000000005a2';
const ADDRESS = { recipient: 'Ada', line1: 'Torstr. 1', line2: '', city: 'Berlin', postalCode: '10119', countryCode: 'DE' };
const PICKUP: Fulfilment = { kind: 'pickup', locationId: STORE };
const DELIVERY: Fulfilment = { kind: 'delivery', address: ADDRESS, coordinates: { latitude: 52.53, longitude: 13.4 } };

describe('saga steps in-process: where stock is reserved (fulfilment and allocations)', function () {
  const h = useSagaHarness();
  const reserved = (allocations: { productId: string; locationId: string; quantity: number }[]) => ({
    kind: 'reserved' as const,
    items: [{ productId: PRODUCT_A, quantity: 3, unitPrice: EUR(100) }],
    allocations,
  });
  const reserveArgs = () => h.inventory.calls.find((c) => c.op === 'reserve')!.args;

  it('a pickup reserves at its location only (the scope names it)', async () => {
    const order = await h.order({ items: [{ productId: PRODUCT_A, quantity: 3 }], fulfilment: PICKUP });
    h.inventory.next('reserve', reserved([{ productId: PRODUCT_A, locationId: STORE, quantity: 3 }]));
    await h.advance(order.id);
    expect(reserveArgs()).to.have.length(5);
    expect(reserveArgs()[4]).to.deep.equal({ locationId: STORE });
  });

  it('a delivery reserves at the locations serving its postal code and coordinates', async () => {
    const order = await h.order({ items: [{ productId: PRODUCT_A, quantity: 3 }], fulfilment: DELIVERY });
    h.inventory.next('reserve', reserved([{ productId: PRODUCT_A, locationId: DARK_STORE, quantity: 3 }]));
    await h.advance(order.id);
    expect(reserveArgs()[4]).to.deep.equal({ destination: { postalCode: '10119', coordinates: { latitude: 52.53, longitude: 13.4 } } });
  });

  it('an order without a fulfilment reserves anywhere, as before (no scope)', async () => {
    const order = await h.order({ items: [{ productId: PRODUCT_A, quantity: 3 }] });
    h.inventory.next('reserve', reserved([]));
    await h.advance(order.id);
    expect(reserveArgs()).to.have.length(4);
  });

  it('records the allocation lines with RESERVED, and the RESERVED event carries them and the fulfilment', async () => {
    const order = await h.order({ items: [{ productId: PRODUCT_A, quantity: 3 }], fulfilment: DELIVERY });
    const lines = [
      { productId: PRODUCT_A, locationId: STORE, quantity: 1 },
      { productId: PRODUCT_A, locationId: DARK_STORE, quantity: 2 },
    ];
    h.inventory.next('reserve', reserved(lines));
    await h.advance(order.id);
    const stored = await h.stored(order.id);
    expect(stored.allocations).to.deep.equal(lines);
    expect(stored.fulfilment).to.deep.equal(DELIVERY);
    expect(stored.shippingAddress).to.deep.equal(ADDRESS);

    const rows: { payload: Buffer }[] = await h.db('outbox').where({ subject: ORDER_EVENTS.reserved.subject }).select('payload');
    const events = rows.map((r) => ORDER_EVENTS.reserved.codec.decode(r.payload) as { order?: { id: string } });
    const event = events.find((e) => e.order?.id === order.id) as
      { order: { allocations: unknown[]; fulfilment: unknown; shippingAddress: unknown } } | undefined;
    expect(event, 'an OrderReserved event for the order').to.not.equal(undefined);
    expect(event!.order.allocations).to.deep.equal(lines);
    expect((event!.order.fulfilment as { delivery?: unknown }).delivery).to.deep.equal({
      address: ADDRESS,
      coordinates: { latitude: 52.53, longitude: 13.4 },
    });
  });

  for (const [reason, words] of [
    ['LOCATION_NOT_FOUND', 'does not exist'],
    ['LOCATION_INACTIVE', 'is not active'],
  ] as const) {
    it(`a pickup location inventory refuses (${reason}) fails the order at once, saying why, and retries nothing`, async () => {
      const order = await h.order({ items: [{ productId: PRODUCT_A, quantity: 3 }], fulfilment: PICKUP });
      h.inventory.next('reserve', { kind: 'locationRefused', locationId: STORE, reason, message: `inventory: ${reason}` });
      const after = await h.advance(order.id);
      expect(after.status).to.equal('FAILED');
      expect(after.cancelReason).to.equal(`pickup location ${STORE} ${words}`);
      expect(after.nextAttemptAt).to.equal(undefined);
      expect(h.inventory.ops()).to.deep.equal(['reserve']);
      expect((await h.events(order.id)).map((e) => e.reason)).to.include(`pickup location ${STORE} ${words}`);
    });
  }

  it('cancelling a confirmed order restocks each allocation line at its location; a split product keys each line by location', async () => {
    const order = await h.order({
      status: 'CONFIRMED',
      paymentStatus: 'CAPTURED',
      cancelRequested: true,
      items: [
        { productId: PRODUCT_A, quantity: 3, unitPrice: EUR(100) },
        { productId: PRODUCT_B, quantity: 1, unitPrice: EUR(100) },
      ],
      fulfilment: DELIVERY,
      allocations: [
        { productId: PRODUCT_A, locationId: STORE, quantity: 1 },
        { productId: PRODUCT_A, locationId: DARK_STORE, quantity: 2 },
        { productId: PRODUCT_B, locationId: DARK_STORE, quantity: 1 },
      ],
    });
    const after = await h.advance(order.id);
    expect(after.status).to.equal('CANCELLED');
    const restocks = h.inventory.calls.filter((c) => c.op === 'restock').map((c) => [c.args[0], c.args[1], c.args[2], c.args[4]]);
    expect(restocks).to.deep.equal([
      [PRODUCT_A, 1, `order-cancel-${order.id}-${PRODUCT_A}-${STORE}`, STORE],
      [PRODUCT_A, 2, `order-cancel-${order.id}-${PRODUCT_A}-${DARK_STORE}`, DARK_STORE],
      [PRODUCT_B, 1, `order-cancel-${order.id}-${PRODUCT_B}`, DARK_STORE],
    ]);
  });
});
