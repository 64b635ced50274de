import { randomUUID } from 'node:crypto';
import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { LocationKind } from '#libs/contracts/larder/inventory/v1/locations.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { errorInfoOf } from '#libs/grpc/status.js';
import { rawUnaryCall } from '#test/support/raw-grpc.js';
import {
  describeValidationMatrix,
  itAnsweredNoUnknownOrInternal,
  rowCounts,
  type Outcome,
  type ValidationMatrix,
} from '#test/support/request-validation.js';
import { ADMIN_KEY, createTestProduct, startTestInventory, type InventoryApi, type TestInventory } from '../harness.js';

/**
 * Every InventoryService RPC fed bad input, one file per area (products,
 * categories, locations, stock, reservations): each must answer INVALID_ARGUMENT with an
 * ErrorInfo naming the field at fault (proto snake_case path), and none of
 * them may change the database. This file holds what the areas share: the
 * inventory and its fixtures, and the checks made after an area's cases.
 */

const TABLES = [
  'products',
  'stock_levels',
  'stock_movements',
  'reservations',
  'reservation_items',
  'stock_adjustments',
  'outbox',
  'categories',
  'product_categories',
  'locations',
  'transfers',
  'transfer_lines',
] as const;

const SERVICE = '/larder.inventory.v1.InventoryService';

export interface Fixtures {
  productId: string;
  otherProductId: string;
  categoryId: string;
  orderId: string;
  productPageToken: string;
  categoryPageToken: string;
  /** A location other than the default one, with coordinates. */
  locationId: string;
  locationPageToken: string;
}

export type Matrix = ValidationMatrix<InventoryApi, Fixtures>;

/** What an area's own tests (beyond its matrix) see: the running inventory and the outcome record. */
export interface ValidationContext {
  readonly inv: TestInventory;
  readonly fixtures: Fixtures;
  readonly outcomes: Outcome[];
}

/** Sends raw bytes as the request of a method, with the admin key. */
export async function rawCall(address: string, method: string, bytes: Buffer): Promise<{ error: ServiceError | null }> {
  return { error: await rawUnaryCall(address, `${SERVICE}/${method}`, bytes, ADMIN_KEY) };
}

/** Bytes the protobuf decoder must refuse (MALFORMED_REQUEST), one test each. */
export function itRefusesUndecodable(context: ValidationContext, garbage: { name: string; method: string; bytes: Buffer }[]): void {
  for (const { name, method, bytes } of garbage) {
    it(`${method} with ${name} → INVALID_ARGUMENT, not INTERNAL or UNKNOWN`, async () => {
      const { error } = await rawCall(context.inv.address, method, bytes);
      context.outcomes.push({ name: `${method}: raw bytes with ${name}`, code: error ? Code[error.code]! : 'OK' });
      expect(error, `${method} accepted undecodable bytes`).to.not.equal(null);
      expect(Code[error!.code], error!.details).to.equal('INVALID_ARGUMENT');
      expect(errorInfoOf(error!)?.reason).to.equal('MALFORMED_REQUEST');
    });
  }
}

/**
 * `request validation: <area>`: one inventory on a fresh database with the
 * fixtures, the area's matrix, then `more` (the area's other cases, which
 * record their codes in `outcomes`), then the checks that no case was answered
 * UNKNOWN or INTERNAL and that the database did not change.
 */
export function describeRequestValidation(area: string, matrix: Matrix, more?: (context: ValidationContext) => void): void {
  describe(`request validation: ${area}`, function () {
    this.timeout(30_000);
    let inv: TestInventory;
    let fixtures: Fixtures;
    let countsBefore: Record<string, number>;
    let stockBefore: unknown;
    let productBefore: unknown;
    /** Every case's gRPC code, to check afterwards that none was UNKNOWN or INTERNAL. */
    const outcomes: Outcome[] = [];

    const countRows = () => rowCounts(inv.db, TABLES);
    const stockRows = () =>
      inv.db('stock_levels').whereIn('product_id', [fixtures.productId, fixtures.otherProductId]).orderBy('product_id');
    const productRows = () => inv.db('products').whereIn('id', [fixtures.productId, fixtures.otherProductId]).orderBy('id');

    before(async () => {
      inv = await startTestInventory();
      const product = await createTestProduct(inv.api, { initialStock: 50 });
      const other = await createTestProduct(inv.api, { initialStock: 50 });
      const { category } = await inv.api.createCategory({ category: { name: `Validation ${randomUUID().slice(0, 8)}` } });
      await inv.api.createCategory({ category: { name: `Validation ${randomUUID().slice(0, 8)}` } });
      const orderId = randomUUID();
      await inv.api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 2 }], ttl: { seconds: 3600 } });
      await inv.api.adjustStock({
        productId: product.id,
        delta: 3,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
        idempotencyKey: `fixture-${randomUUID()}`,
      });
      const { location } = await inv.api.createLocation({
        location: {
          code: `validation-${randomUUID().slice(0, 8)}`,
          name: 'Validation',
          kind: LocationKind.LOCATION_KIND_STORE,
          coordinates: { latitude: 52.5, longitude: 13.4 },
        },
      });
      const productPage = await inv.api.listProducts({ pageSize: 1 });
      const categoryPage = await inv.api.listCategories({ pageSize: 1 });
      const locationPage = await inv.api.listLocations({ pageSize: 1 });
      expect(productPage.nextPageToken).to.not.equal('');
      expect(locationPage.nextPageToken).to.not.equal('');
      expect(categoryPage.nextPageToken).to.not.equal('');
      fixtures = {
        productId: product.id,
        otherProductId: other.id,
        categoryId: category!.id,
        orderId,
        productPageToken: productPage.nextPageToken,
        categoryPageToken: categoryPage.nextPageToken,
        locationId: location!.id,
        locationPageToken: locationPage.nextPageToken,
      };
      // The tokens are good: they page on with the filters they were issued for.
      await inv.api.listProducts({ pageSize: 1, pageToken: fixtures.productPageToken });
      await inv.api.listCategories({ pageSize: 1, pageToken: fixtures.categoryPageToken });
      await inv.api.listLocations({ pageSize: 1, pageToken: fixtures.locationPageToken });
      countsBefore = await countRows();
      stockBefore = await stockRows();
      productBefore = await productRows();
    });
    after(async () => inv?.stop());

    describeValidationMatrix(matrix, () => ({ api: inv.api, fixtures }), outcomes);

    more?.({
      get inv() {
        return inv;
      },
      get fixtures() {
        return fixtures;
      },
      outcomes,
    });

    describe('afterwards', () => {
      itAnsweredNoUnknownOrInternal(matrix, outcomes);

      it('the database did not change: same row counts, same stock, same products', async () => {
        expect(await countRows()).to.deep.equal(countsBefore);
        expect(await stockRows()).to.deep.equal(stockBefore);
        expect(await productRows()).to.deep.equal(productBefore);
        const { reservation } = await inv.api.getReservation({ orderId: fixtures.orderId });
        expect(reservation!.items).to.have.length(1);
        expect(reservation!.items[0]).to.include({ productId: fixtures.productId, quantity: 2 });
      });

      it('the service still answers valid requests', async () => {
        const { stockLevels } = await inv.api.batchGetStockLevels({ productIds: [fixtures.productId] });
        expect(stockLevels[0]).to.include({ productId: fixtures.productId, available: 51, reserved: 2, sold: 0 });
        const { reservation } = await inv.api.reserveStock({
          orderId: randomUUID(),
          items: [{ productId: fixtures.otherProductId, quantity: 1 }],
        });
        expect(reservation!.items[0]!.quantity).to.equal(1);
        const { product } = await inv.api.getProduct({ id: fixtures.productId });
        expect(product!.stockLevel).to.include({ available: 51, reserved: 2 });
      });
    });
  });
}
