import { AdjustmentReason as Reason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { invalid } from '#libs/errors/app-error.js';
import { rpcError } from '#libs/grpc/rpc-errors.js';
import * as v from '#libs/validation/fields.js';
import { toStockLevelMessage } from '../contract/to-proto.js';
import { adjustStock } from '../domain/stock/adjust-stock.js';
import { batchGetStockLevels } from '../domain/stock/read-stock.js';
import { updateStockSettings } from '../domain/stock/update-stock-settings.js';
import { destinationOf } from './destination.js';
import type { AdjustmentReason } from '../domain/types.js';
import { keyReused, locationInactive, locationNotFound, productNotFound } from './rpc-errors.js';
import type { InventoryRpcs } from './scopes.js';

const reasons: Record<number, { reason: AdjustmentReason; sign: 1 | -1 | 0 }> = {
  [Reason.ADJUSTMENT_REASON_RESTOCK]: { reason: 'RESTOCK', sign: 1 },
  [Reason.ADJUSTMENT_REASON_DAMAGED]: { reason: 'DAMAGED', sign: -1 },
  [Reason.ADJUSTMENT_REASON_EXPIRED]: { reason: 'EXPIRED', sign: -1 },
  [Reason.ADJUSTMENT_REASON_LOST]: { reason: 'LOST', sign: -1 },
  [Reason.ADJUSTMENT_REASON_CORRECTION]: { reason: 'CORRECTION', sign: 0 },
};

const SETTINGS_PATHS = ['safety_stock', 'low_stock_threshold'] as const;

/** AdjustStock, BatchGetStockLevels and UpdateStockSettings: each RPC's scope, errors and handler. */
export const stockRpcs = {
  adjustStock: {
    scope: 'stock.write',
    errors: [
      productNotFound,
      locationNotFound,
      locationInactive,
      rpcError('FAILED_PRECONDITION', 'INSUFFICIENT_STOCK', 'the change would take on-hand below what is reserved'),
      keyReused,
    ],
    async handle(deps, request, ctx) {
      const productId = v.requireUuid('product_id', request.productId);
      const delta = v.integer('delta', request.delta, { min: -1_000_000, max: 1_000_000 });
      if (delta === 0) throw invalid('delta', 'must not be zero');
      const { reason, sign } = reasons[v.enumValue('reason', request.reason, Reason)]!;
      if (sign === 1 && delta < 0) throw invalid('delta', `must be positive for ${reason}`);
      if (sign === -1 && delta > 0) throw invalid('delta', `must be negative for ${reason}`);
      const stock = await adjustStock(deps, ctx, {
        productId,
        locationId: v.optionalUuid('location_id', request.locationId),
        delta,
        reason,
        idempotencyKey: v.text('idempotency_key', request.idempotencyKey, { min: 1, max: 128 }),
        note: v.text('note', request.note, { max: 500 }),
      });
      return { stockLevel: toStockLevelMessage(stock) };
    },
  },

  batchGetStockLevels: {
    scope: 'catalog.read',
    errors: [productNotFound, locationNotFound],
    async handle(deps, request) {
      const ids = v.distinctUuids('product_ids', v.listSize('product_ids', request.productIds, { min: 1, max: 1000 }));
      const locationId = v.optionalUuid('location_id', request.locationId);
      const destination = destinationOf('destination', request.destination);
      if (locationId && destination) throw invalid('destination', 'give location_id or destination, not both');
      const levels = await batchGetStockLevels(deps, ids, locationId ? { locationId } : { destination });
      return { stockLevels: levels.map(toStockLevelMessage) };
    },
  },

  updateStockSettings: {
    scope: 'stock.write',
    errors: [productNotFound, locationNotFound, locationInactive],
    async handle(deps, request, ctx) {
      const productId = v.requireUuid('product_id', request.productId);
      const locationId = v.optionalUuid('location_id', request.locationId);
      const paths = v.maskPaths('update_mask', request.updateMask, SETTINGS_PATHS);
      const patch = {
        ...(paths.includes('safety_stock')
          ? { safetyStock: v.integer('safety_stock', request.safetyStock, { min: 0, max: 1_000_000 }) }
          : {}),
        ...(paths.includes('low_stock_threshold')
          ? {
              lowStockThreshold:
                request.lowStockThreshold === undefined
                  ? null
                  : v.integer('low_stock_threshold', request.lowStockThreshold, { min: 0, max: 1_000_000_000 }),
            }
          : {}),
      };
      return { stockLevel: toStockLevelMessage(await updateStockSettings(deps, ctx, { productId, locationId, patch })) };
    },
  },
} satisfies InventoryRpcs;
