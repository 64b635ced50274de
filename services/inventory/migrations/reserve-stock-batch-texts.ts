import { readFileSync } from 'node:fs';

/**
 * The versions of reserve_stock_batch(batch jsonb) that migrations apply, by
 * name. The function's source is SQL in the data layer, data/sql/ (what it
 * decides: the header of reserve_stock_batch.sql); `npm run build` copies those
 * files next to the compiled code, so they are read relative to this file's URL
 * under tsx and in dist/ alike.
 *
 * A name keeps meaning the text it had when the migrations using it shipped
 * (services/inventory/test/migrations.test.ts checks each against its
 * checksum): the newest version is the file without a number, and a new version
 * first freezes that file as reserve_stock_batch.vN.sql under its old name here.
 */
const text = (file: string): string => readFileSync(new URL(`../data/sql/${file}`, import.meta.url), 'utf8');

/** Before outbox.trace_context: what 007's down puts back. */
export const RESERVE_STOCK_BATCH_V1 = text('reserve_stock_batch.v1.sql');

/**
 * With outbox.trace_context: what 005, 006 and 007 apply, and 008's down puts
 * back. (PL/pgSQL checks the columns a statement names when it runs, not when
 * it is created: 005 may apply a text naming a column that 007 adds.)
 */
export const RESERVE_STOCK_BATCH_V2 = text('reserve_stock_batch.v2.sql');

/** Per (product, location), with routing and allocation lines: what 008 applies. */
export const RESERVE_STOCK_BATCH_V3 = text('reserve_stock_batch.sql');
