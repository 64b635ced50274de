import { expect } from 'chai';
import { TransferCreated } from '#libs/contracts/larder/inventory/v1/events.js';
import * as messages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { outcomeOf } from '#test/support/grpc-errors.js';
import type { ServiceProcess } from '#test/support/service-process.js';
import { createTestDatabase, type TestDatabase } from '#test/support/test-database.js';
import { inventoryMigrations } from '../migrations/index.js';
import { findInvariantViolations } from '../data/invariants.js';
import { ADMIN_KEY, createTestProduct, inventoryProcess, type InventoryApi } from './harness.js';
import { defaultLocationId, insertTestLocation, stockAt, transferRequest } from './transfer-support.js';

type CreateRequest = ReturnType<typeof transferRequest>;

/** Transfers in a real inventory process killed with SIGKILL: nothing acknowledged is lost, nothing is applied twice. */
describe('transfers across a SIGKILL', function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let inventory: ServiceProcess;
  const clients: InventoryApi[] = [];

  const connect = () => {
    const api = createPromiseClient(InventoryServiceService, messages, `127.0.0.1:${inventory.port}`, { defaults: { apiKey: ADMIN_KEY } });
    clients.push(api);
    return api;
  };

  beforeEach(async () => {
    database = await createTestDatabase('inventory', inventoryMigrations);
    inventory = await inventoryProcess(database.url, 'transfers');
  });
  afterEach(async () => {
    for (const api of clients.splice(0)) api.close();
    await inventory.stop('SIGKILL');
    await database.drop();
  });

  /** One row per transfer with what it left: lines, ledger rows by kind, its created event. */
  async function storedTransfers(): Promise<
    Map<string, { id: string; status: string; lines: number; out: number; ended: number; events: number }>
  > {
    const { rows } = await database.db.raw(`
      select t.idempotency_key as key, t.id, t.status,
             (select count(*)::int from transfer_lines l where l.transfer_id = t.id) as lines,
             (select count(*)::int from stock_movements m where m.reference = t.id::text and m.kind = 'TRANSFER_OUT') as out,
             (select count(*)::int from stock_movements m
               where m.reference = t.id::text and m.kind in ('TRANSFER_CANCELLED', 'TRANSFER_IN')) as ended
        from transfers t`);
    const events: { payload: Buffer }[] = await database.db('outbox').where({ subject: 'inventory.transfer.created' }).select('payload');
    const created = events.map((e) => TransferCreated.decode(e.payload).transfer!.id);
    return new Map(
      rows.map((r: { key: string; id: string; status: string; lines: number; out: number; ended: number }) => [
        r.key,
        { ...r, events: created.filter((id) => id === r.id).length },
      ]),
    );
  }

  it('SIGKILL with transfers being created, received and cancelled: every acknowledged step stays, a retry applies the rest once', async () => {
    await inventory.start();
    let api = connect();
    const home = await defaultLocationId(database.db);
    const store = await insertTestLocation(database.db);
    const product = await createTestProduct(api, { initialStock: 100_000 });

    // Each worker: create a transfer of 1-3 units, then receive (even) or cancel (odd) it; the end it chose is its plan.
    const plans: { request: CreateRequest; end: 'receive' | 'cancel'; created?: string; ended: boolean }[] = [];
    let killed: Promise<string> | undefined;
    let acknowledged = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        for (let i = 0; i < 100 && !killed; i++) {
          const plan = {
            request: transferRequest(home, store, [{ productId: product.id, quantity: 1 + ((worker + i) % 3) }]),
            end: (i % 2 === 0 ? 'receive' : 'cancel') as 'receive' | 'cancel',
            created: undefined as string | undefined,
            ended: false,
          };
          plans.push(plan);
          try {
            plan.created = (await api.createTransfer(plan.request)).transfer!.id;
            if (plan.end === 'receive') await api.receiveTransfer({ id: plan.created, received: [], lossReason: 0 });
            else await api.cancelTransfer({ id: plan.created, reason: 'plan' });
            plan.ended = true;
            acknowledged += 1;
          } catch {
            break;
          }
          if (acknowledged >= 150 && !killed) killed = inventory.stop('SIGKILL');
        }
      }),
    );
    expect(await killed, 'the process was killed under load').to.equal('SIGKILL');
    expect(plans.filter((p) => !p.ended).length, 'steps were in flight when it died').to.be.above(0);

    // What the crash left: every acknowledged step is there, nothing is half-written.
    const stored = await storedTransfers();
    for (const plan of plans.filter((p) => p.created))
      expect(stored.get(plan.request.idempotencyKey)?.id, 'acknowledged transfer').to.equal(plan.created);
    for (const plan of plans.filter((p) => p.ended)) {
      expect(stored.get(plan.request.idempotencyKey)!.status).to.equal(plan.end === 'receive' ? 'RECEIVED' : 'CANCELLED');
    }
    for (const [key, t] of stored) {
      expect({ key, lines: t.lines, out: t.out, events: t.events, ended: t.ended }, 'whole').to.deep.equal({
        key,
        lines: 1,
        out: 1,
        events: 1,
        ended: t.status === 'IN_TRANSIT' ? 0 : 1,
      });
    }
    expect(await findInvariantViolations(database.db)).to.deep.equal([]);

    // The restart: each caller retries what it did not see answered, with the same key; nothing happens twice.
    await inventory.start();
    api = connect();
    for (const plan of plans.filter((p) => !p.ended)) {
      const id = (await api.createTransfer(plan.request)).transfer!.id;
      expect(plan.created ?? id, 'the same transfer').to.equal(id);
      if (plan.end === 'receive') await api.receiveTransfer({ id, received: [], lossReason: 0 });
      else await api.cancelTransfer({ id, reason: 'plan' });
    }
    const after = await storedTransfers();
    expect(after.size, 'one transfer per key').to.equal(plans.length);
    const units = (end: string) => plans.filter((p) => p.end === end).reduce((sum, p) => sum + p.request.items[0]!.quantity, 0);
    expect(await stockAt(database.db, product.id, store)).to.include({ available: units('receive') });
    expect(await stockAt(database.db, product.id, home)).to.include({ available: 100_000 - units('receive'), inTransit: 0 });
    expect(await findInvariantViolations(database.db)).to.deep.equal([]);
  });

  it('a crash inside the create transaction (transfer-mid-transaction) leaves no trace of it; the retry creates it once', async () => {
    const hit = 4;
    await inventory.start({ LARDER_CRASH_AT: `transfer-mid-transaction:${hit}` });
    let api = connect();
    const home = await defaultLocationId(database.db);
    const store = await insertTestLocation(database.db);
    const product = await createTestProduct(api, { initialStock: 50 });
    await api.adjustStock({ productId: product.id, delta: -1, reason: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED, idempotencyKey: 'w' });

    const requests = Array.from({ length: hit }, () => transferRequest(home, store, [{ productId: product.id, quantity: 2 }]));
    const outcomes: string[] = [];
    for (const request of requests) outcomes.push(await outcomeOf(api.createTransfer(request)));
    expect(outcomes).to.deep.equal(['OK', 'OK', 'OK', 'UNAVAILABLE']);
    expect(await inventory.exited(10_000)).to.equal('SIGKILL');

    const stored = await storedTransfers();
    expect([...stored.keys()].sort()).to.deep.equal(
      requests
        .slice(0, hit - 1)
        .map((r) => r.idempotencyKey)
        .sort(),
    );
    expect(await stockAt(database.db, product.id, home)).to.include({ available: 49 - 2 * (hit - 1), inTransit: 2 * (hit - 1) });
    expect(await findInvariantViolations(database.db)).to.deep.equal([]);

    await inventory.start();
    api = connect();
    const retried = await api.createTransfer(requests[hit - 1]!);
    expect((await api.createTransfer(requests[hit - 1]!)).transfer!.id).to.equal(retried.transfer!.id);
    expect((await storedTransfers()).size).to.equal(hit);
    expect(await stockAt(database.db, product.id, home)).to.include({ available: 49 - 2 * hit, inTransit: 2 * hit });
    expect(await findInvariantViolations(database.db)).to.deep.equal([]);
  });
});
