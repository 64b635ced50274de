import { randomBytes, randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { LocationDeleted } from '#libs/contracts/larder/inventory/v1/events.js';
import { LocationKind, type Location } from '#libs/contracts/larder/inventory/v1/locations.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { AppError } from '#libs/errors/app-error.js';
import { eventually } from '#test/support/eventually.js';
import { expectGrpcError, outcomeOf } from '#test/support/grpc-errors.js';
import { lockLocationForStock } from '../../data/location-directory.js';
import { holdLocationForStock } from '../../domain/stock/stock-location.js';
import { createTestProduct, startTestInventory, type TestInventory } from '../harness.js';

/**
 * DeleteLocation's refusals and its race with writers. Stock, reservations and
 * transfers at a location other than the default are written here with SQL:
 * the RPCs that put them there belong to other parts of the locations work.
 */

const newTag = () => `t${randomBytes(4).toString('hex')}`;

describe('DeleteLocation', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  let productId: string;
  let defaultId: string;

  before(async () => {
    inv = await startTestInventory();
    // A product row is all the stock rows below need (CreateProduct's answer belongs to the stock work in progress).
    productId = randomUUID();
    const now = new Date();
    await inv.db('products').insert({
      id: productId,
      sku: `DEL-${newTag()}`,
      name: 'Delete test',
      price_minor: 1,
      currency_code: 'EUR',
      created_at: now,
      updated_at: now,
    });
    defaultId = (await inv.db('locations').where({ is_default: true }).first('id')).id;
  });
  after(async () => inv?.stop());

  const create = async (fields: Partial<Location> = {}) =>
    (
      await inv.api.createLocation({
        location: { code: `del-${newTag()}`, name: 'To delete', kind: LocationKind.LOCATION_KIND_STORE, ...fields },
      })
    ).location!;
  const stockAt = (locationId: string, counters: { available?: number; reserved?: number; in_transit?: number }) =>
    inv
      .db('stock_levels')
      .insert({ product_id: productId, location_id: locationId, available: 0, reserved: 0, sold: 0, updated_at: new Date(), ...counters });
  const setStock = (locationId: string, counters: { available?: number; reserved?: number; in_transit?: number }) =>
    inv.db('stock_levels').where({ product_id: productId, location_id: locationId }).update(counters);
  const deletedEvents = async (id: string) => {
    const rows: { payload: Buffer }[] = await inv.db('outbox').where({ subject: 'inventory.location.deleted' }).select('payload');
    return rows.map((row) => LocationDeleted.decode(new Uint8Array(row.payload))).filter((event) => event.location!.id === id);
  };
  const expectInUse = async (id: string, inUseBy: string) => {
    const { reason, info } = await expectGrpcError(inv.api.deleteLocation({ id }), Code.FAILED_PRECONDITION);
    expect({ reason, inUseBy: info!.metadata.in_use_by, id: info!.metadata.id }).to.deep.equal({ reason: 'LOCATION_IN_USE', inUseBy, id });
    const { location } = await inv.api.getLocation({ id });
    expect({ active: location!.active, deleteTime: location!.deleteTime }).to.deep.equal({ active: true, deleteTime: undefined });
    return info!.metadata;
  };

  it('soft-deletes: delete_time set, inactive, still readable, inventory.location.deleted published once', async () => {
    const created = await create();
    const { location } = await inv.api.deleteLocation({ id: created.id });
    expect(location!.deleteTime).to.be.instanceOf(Date);
    expect(location).to.include({ active: false, code: created.code, etag: '2' });
    expect((await inv.api.getLocation({ id: created.id })).location).to.deep.equal(location);
    const events = await deletedEvents(created.id);
    expect(events.map((event) => event.location)).to.deep.equal([location]);
  });

  it('a repeat delete returns the deleted location unchanged and publishes nothing more', async () => {
    const created = await create();
    const first = (await inv.api.deleteLocation({ id: created.id })).location;
    const again = (await inv.api.deleteLocation({ id: created.id })).location;
    expect(again).to.deep.equal(first);
    expect(await deletedEvents(created.id)).to.have.length(1);
  });

  it('an unknown id: NOT_FOUND, LOCATION_NOT_FOUND', async () => {
    expect((await expectGrpcError(inv.api.deleteLocation({ id: randomUUID() }), Code.NOT_FOUND)).reason).to.equal('LOCATION_NOT_FOUND');
  });

  it('refuses the default location: FAILED_PRECONDITION, LOCATION_IS_DEFAULT', async () => {
    const { reason } = await expectGrpcError(inv.api.deleteLocation({ id: defaultId }), Code.FAILED_PRECONDITION);
    expect(reason).to.equal('LOCATION_IS_DEFAULT');
    expect((await inv.api.getLocation({ id: defaultId })).location).to.include({ active: true, deleteTime: undefined });
  });

  for (const counter of ['available', 'reserved', 'in_transit'] as const) {
    it(`refuses while a stock row there has ${counter} > 0 (LOCATION_IN_USE, in_use_by stock); deletes once it is 0`, async () => {
      const created = await create();
      await stockAt(created.id, { [counter]: 2 });
      const metadata = await expectInUse(created.id, 'stock');
      expect(metadata.products_with_stock).to.equal('1');
      await setStock(created.id, { [counter]: 0 });
      expect((await inv.api.deleteLocation({ id: created.id })).location!.deleteTime).to.be.instanceOf(Date);
    });
  }

  it('refuses while a RESERVED reservation has a line there (in_use_by reservations); not once it is released', async () => {
    const created = await create();
    const orderId = randomUUID();
    const now = new Date();
    await inv.db('reservations').insert({
      order_id: orderId,
      status: 'RESERVED',
      request_hash: 'h',
      expires_at: new Date(now.getTime() + 600_000),
      created_at: now,
      updated_at: now,
    });
    await inv.db('reservation_items').insert({
      order_id: orderId,
      product_id: productId,
      location_id: created.id,
      quantity: 1,
      unit_price_minor: 199,
      currency_code: 'EUR',
    });
    expect((await expectInUse(created.id, 'reservations')).live_reservations).to.equal('1');
    await inv.db('reservations').where({ order_id: orderId }).update({ status: 'RELEASED' });
    expect((await inv.api.deleteLocation({ id: created.id })).location!.deleteTime).to.be.instanceOf(Date);
  });

  for (const direction of ['from', 'to'] as const) {
    it(`refuses while a transfer IN_TRANSIT goes ${direction} it (in_use_by transfers); not once it is received`, async () => {
      const created = await create();
      const id = randomUUID();
      const [from, to] = direction === 'from' ? [created.id, defaultId] : [defaultId, created.id];
      const now = new Date();
      await inv.db('transfers').insert({
        id,
        idempotency_key: id,
        request_hash: 'h',
        from_location_id: from,
        to_location_id: to,
        status: 'IN_TRANSIT',
        created_at: now,
        updated_at: now,
      });
      expect((await expectInUse(created.id, 'transfers')).transfers_in_transit).to.equal('1');
      await inv.db('transfers').where({ id }).update({ status: 'RECEIVED' });
      expect((await inv.api.deleteLocation({ id: created.id })).location!.deleteTime).to.be.instanceOf(Date);
    });
  }

  it('names every use at once in in_use_by', async () => {
    const created = await create();
    await stockAt(created.id, { available: 1 });
    const now = new Date();
    const transfer = randomUUID();
    await inv.db('transfers').insert({
      id: transfer,
      idempotency_key: transfer,
      request_hash: 'h',
      from_location_id: defaultId,
      to_location_id: created.id,
      status: 'IN_TRANSIT',
      created_at: now,
      updated_at: now,
    });
    const metadata = await expectInUse(created.id, 'stock,transfers');
    expect(metadata).to.include({ products_with_stock: '1', live_reservations: '0', transfers_in_transit: '1' });
  });

  it('through the API: refused while AdjustStock and a pinned ReserveStock left units there; deleted once they are gone; then it takes no stock', async () => {
    const created = await create();
    const product = await createTestProduct(inv.api, { initialStock: 0 });
    const adjust = (delta: number) =>
      inv.api.adjustStock({
        productId: product.id,
        locationId: created.id,
        delta,
        reason: delta > 0 ? AdjustmentReason.ADJUSTMENT_REASON_RESTOCK : AdjustmentReason.ADJUSTMENT_REASON_CORRECTION,
        idempotencyKey: randomUUID(),
      });
    await adjust(5);
    const orderId = randomUUID();
    await inv.api.reserveStock({ orderId, items: [{ productId: product.id, quantity: 2 }], locationId: created.id });
    await expectInUse(created.id, 'stock,reservations');
    await inv.api.releaseReservation({ orderId, reason: 'location closes' });
    await expectInUse(created.id, 'stock');
    await adjust(-5);
    expect((await inv.api.deleteLocation({ id: created.id })).location!.deleteTime).to.be.instanceOf(Date);
    const { reason } = await expectGrpcError(adjust(1), Code.FAILED_PRECONDITION);
    expect(reason).to.equal('LOCATION_INACTIVE');
  });

  describe('against concurrent writers', () => {
    /** Whether a backend of the test database waits for a lock on a statement about `table`. */
    const waitsForLock = (table: string) => async () => {
      const { rows } = await inv.db.raw<{ rows: { query: string }[] }>(
        `select query from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      );
      return rows.some((row) => row.query.includes(table)) || `waiting: ${JSON.stringify(rows.map((r) => r.query.slice(0, 60)))}`;
    };

    it('a writer adding stock holds the location FOR SHARE: the delete waits for it, then sees its units and refuses', async () => {
      const created = await create();
      const trx: Knex.Transaction = await inv.db.transaction();
      try {
        expect(await lockLocationForStock(trx, created.id)).to.deep.include({ id: created.id, deleted: false });
        const deleting = outcomeOf(inv.api.deleteLocation({ id: created.id }));
        await eventually('the delete to wait for the location row', waitsForLock('locations'));
        await trx('stock_levels').insert({ product_id: productId, location_id: created.id, available: 3, updated_at: new Date() });
        await trx.commit();
        expect(await deleting).to.equal('FAILED_PRECONDITION');
      } finally {
        if (!trx.isCompleted()) await trx.rollback();
      }
      expect((await inv.api.getLocation({ id: created.id })).location!.deleteTime).to.equal(undefined);
    });

    it('a writer holding a stock row there (no location lock): the delete waits for the row, then sees its units and refuses', async () => {
      const created = await create();
      await stockAt(created.id, {});
      const trx: Knex.Transaction = await inv.db.transaction();
      try {
        await trx('stock_levels').where({ product_id: productId, location_id: created.id }).forUpdate().first();
        const deleting = outcomeOf(inv.api.deleteLocation({ id: created.id }));
        await eventually('the delete to wait for the stock row', waitsForLock('stock_levels'));
        await trx('stock_levels').where({ product_id: productId, location_id: created.id }).update({ reserved: 1 });
        await trx.commit();
        expect(await deleting).to.equal('FAILED_PRECONDITION');
      } finally {
        if (!trx.isCompleted()) await trx.rollback();
      }
    });

    it('AdjustStock racing DeleteLocation, 30 rounds: never a deleted location with units; exactly one of the two wins each round', async () => {
      const product = await createTestProduct(inv.api, { initialStock: 0 });
      const wins: Record<string, number> = {};
      for (let round = 0; round < 30; round++) {
        const created = await create();
        const [adjusted, deleted] = await Promise.all([
          outcomeOf(
            inv.api.adjustStock({
              productId: product.id,
              locationId: created.id,
              delta: 1,
              reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
              idempotencyKey: randomUUID(),
            }),
          ),
          outcomeOf(inv.api.deleteLocation({ id: created.id })),
        ]);
        const units = await inv.db('stock_levels').where({ location_id: created.id }).sum<{ n: number | null }[]>('available as n');
        const { location } = await inv.api.getLocation({ id: created.id });
        const outcome = `adjust ${adjusted}, delete ${deleted}`;
        wins[outcome] = (wins[outcome] ?? 0) + 1;
        if (deleted === 'OK') {
          expect({ adjusted, units: Number(units[0]?.n ?? 0) }, `round ${round}`).to.deep.equal({
            adjusted: 'FAILED_PRECONDITION',
            units: 0,
          });
        } else {
          expect({ adjusted, deleted, units: Number(units[0]?.n ?? 0), deleteTime: location!.deleteTime }, `round ${round}`).to.deep.equal({
            adjusted: 'OK',
            deleted: 'FAILED_PRECONDITION',
            units: 1,
            deleteTime: undefined,
          });
        }
      }
      // Both orders happen (which one depends on timing); the checks above hold for each.
      expect(
        Object.keys(wins).every((o) => o === 'adjust OK, delete FAILED_PRECONDITION' || o === 'adjust FAILED_PRECONDITION, delete OK'),
        JSON.stringify(wins),
      ).to.equal(true);
    });

    it('after a delete, a stock writer finds it deleted: holdLocationForStock refuses, LOCATION_INACTIVE', async () => {
      const created = await create();
      await inv.api.deleteLocation({ id: created.id });
      const refusal = async (id: string) => {
        try {
          await inv.db.transaction((trx) => holdLocationForStock(trx, id));
        } catch (error) {
          expect(error).to.be.instanceOf(AppError);
          return { kind: (error as AppError).kind, reason: (error as AppError).reason };
        }
        throw new Error(`holdLocationForStock accepted ${id}`);
      };
      expect(await refusal(created.id)).to.deep.equal({ kind: 'failedPrecondition', reason: 'LOCATION_INACTIVE' });
      expect(await refusal(randomUUID())).to.deep.equal({ kind: 'notFound', reason: 'LOCATION_NOT_FOUND' });
      await inv.db.transaction((trx) => holdLocationForStock(trx, defaultId));
    });
  });
});
