import { ReserveStockRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { databaseName } from '#libs/db/admin.js';
import { withCleanup } from '../cleanup.js';
import { psqlFile } from '../pgbench.js';
import { BENCH_METHOD_PATH } from '../servers/bench-server.js';
import { startChildServer } from '../servers/child-server.js';
import { throwawayDatabase, type BenchContext } from './context.js';
import { grpcCase } from './grpc-load.js';

/** One unit of row 1 of the classic schema's stock table, as the naive server reads it. */
const BARE_UPDATE_BODY = Buffer.from(
  ReserveStockRequest.encode(ReserveStockRequest.fromPartial({ orderId: '', items: [{ productId: '1', quantity: 1 }] })).finish(),
);

/** The ceilings: a no-op grpc-js server, and grpc-js + pg doing one bare UPDATE a call, each in its own process. */
export async function runBaselines(ctx: BenchContext): Promise<void> {
  await withCleanup(async (defer) => {
    const noop = await startChildServer('./noop.ts');
    defer(() => noop.stop());
    const { result } = await grpcCase(ctx.config, {
      id: 'noop',
      label: 'no-op grpc-js server',
      kind: 'baseline',
      address: noop.address,
      path: BENCH_METHOD_PATH,
      request: { kind: 'fixed', base64: '' },
      pids: { server: noop.pid },
    });
    ctx.report(result);
  });
  await withCleanup(async (defer) => {
    const database = await throwawayDatabase('bench_naive', [], defer);
    await psqlFile(database.url, 'classic-schema.sql', { products: 1 });
    const naive = await startChildServer('./naive-update.ts', { DATABASE_URL: database.url });
    defer(() => naive.stop());
    const { result } = await grpcCase(ctx.config, {
      id: 'naive',
      label: 'naive grpc-js + pg bare UPDATE (1 row)',
      kind: 'baseline',
      address: naive.address,
      path: BENCH_METHOD_PATH,
      request: { kind: 'fixed', base64: BARE_UPDATE_BODY.toString('base64') },
      pids: { server: naive.pid },
      databases: [databaseName(database.url)],
    });
    ctx.report(result);
  });
}
