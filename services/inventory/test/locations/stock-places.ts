import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/** A location as the routing tests need it, inserted with SQL (its CRUD has tests of its own). */
export interface PlaceFields {
  code: string;
  latitude?: number;
  longitude?: number;
  delivery?: boolean;
  pickup?: boolean;
  prefixes?: string[];
  radiusKm?: number;
  priority?: number;
  active?: boolean;
}

export async function insertPlace(db: Knex, fields: PlaceFields): Promise<string> {
  const id = randomUUID();
  await db('locations').insert({
    id,
    code: fields.code,
    name: `Place ${fields.code}`,
    kind: 'DARK_STORE',
    latitude: fields.latitude ?? null,
    longitude: fields.longitude ?? null,
    delivery: fields.delivery ?? true,
    pickup: fields.pickup ?? false,
    postal_code_prefixes: fields.prefixes ?? [],
    delivery_radius_km: fields.radiusKm ?? 0,
    priority: fields.priority ?? 0,
    active: fields.active ?? true,
    created_at: new Date(),
    updated_at: new Date(),
  });
  return id;
}

/** Restocks a product at a location through the API. */
export { stockAt } from '#test/support/stock-at.js';

/** The default location's id. */
export async function defaultPlace(db: Knex): Promise<string> {
  return (await db('locations').first('id').where({ is_default: true })).id;
}
