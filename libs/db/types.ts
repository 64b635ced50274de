import type { Knex } from 'knex';

/** A pool or an open transaction: data-access functions take either, so a use case decides the transaction. */
export type Db = Knex | Knex.Transaction;

/** An open transaction: for functions that must run inside one (row locks, an outbox row with its change). */
export type Tx = Knex.Transaction;

/** The connection pool a service owns (created in app.ts, destroyed on stop). */
export type Pool = Knex;
