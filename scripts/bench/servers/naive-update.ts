/**
 * Baseline 2: grpc-js + pg, one bare conditional UPDATE per call and nothing
 * else (no transaction, no ledger, no events). The body is a ReserveStockRequest
 * so the generator sends the same bytes as to Larder; its first item names the row.
 */
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { ReserveStockRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { serveBaseline } from './bench-server.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
const UPDATE = 'update stock set available = available - $1 where product_id = $2 and available >= $1';
const EMPTY = Buffer.alloc(0);

await serveBaseline((call, callback) => {
  const item = ReserveStockRequest.decode(call.request).items[0];
  pool.query(UPDATE, [item?.quantity ?? 1, item?.productId]).then(
    (result) =>
      result.rowCount === 1 ? callback(null, EMPTY) : callback({ code: status.FAILED_PRECONDITION, details: 'insufficient stock' }),
    (error: Error) => callback({ code: status.INTERNAL, details: error.message }),
  );
});
