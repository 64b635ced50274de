import { randomUUID } from 'node:crypto';
import type { AdjustStockRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { chars, INT32_MAX, INT32_MIN } from '#test/support/request-validation.js';
import { describeRequestValidation, itRefusesUndecodable, type Fixtures, type Matrix } from './harness.js';

/**
 * Request validation of AdjustStock and BatchGetStockLevels. The inventory,
 * its fixtures and the checks after the cases are in harness.ts.
 */

const adjust = (f: Fixtures, overrides: Partial<AdjustStockRequest> = {}): Partial<AdjustStockRequest> => ({
  note: '',
  productId: f.productId,
  delta: 5,
  reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
  idempotencyKey: `validation-${randomUUID()}`,
  ...overrides,
});

const matrix: Matrix = {
  AdjustStock: [
    { name: 'missing product_id', field: 'product_id', call: (api, f) => api.adjustStock(adjust(f, { productId: '' })) },
    { name: 'malformed product_id', field: 'product_id', call: (api, f) => api.adjustStock(adjust(f, { productId: 'milk' })) },
    { name: 'zero delta', field: 'delta', call: (api, f) => api.adjustStock(adjust(f, { delta: 0 })) },
    { name: 'delta over 1,000,000', field: 'delta', call: (api, f) => api.adjustStock(adjust(f, { delta: 1_000_001 })) },
    { name: 'delta 2^31-1', field: 'delta', call: (api, f) => api.adjustStock(adjust(f, { delta: INT32_MAX })) },
    {
      name: 'delta -2^31',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: INT32_MIN, reason: AdjustmentReason.ADJUSTMENT_REASON_CORRECTION })),
    },
    {
      name: 'unspecified reason (0)',
      field: 'reason',
      call: (api, f) => api.adjustStock(adjust(f, { reason: AdjustmentReason.ADJUSTMENT_REASON_UNSPECIFIED })),
    },
    { name: 'unknown reason 99', field: 'reason', call: (api, f) => api.adjustStock(adjust(f, { reason: 99 as AdjustmentReason })) },
    { name: 'negative reason -1', field: 'reason', call: (api, f) => api.adjustStock(adjust(f, { reason: -1 as AdjustmentReason })) },
    {
      name: 'RESTOCK with a negative delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: -5, reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK })),
    },
    {
      name: 'DAMAGED with a positive delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED })),
    },
    {
      name: 'EXPIRED with a positive delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_EXPIRED })),
    },
    {
      name: 'LOST with a positive delta',
      field: 'delta',
      call: (api, f) => api.adjustStock(adjust(f, { delta: 5, reason: AdjustmentReason.ADJUSTMENT_REASON_LOST })),
    },
    { name: 'missing idempotency_key', field: 'idempotency_key', call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: '' })) },
    {
      name: 'idempotency_key of only spaces',
      field: 'idempotency_key',
      call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: '    ' })),
    },
    {
      name: 'idempotency_key of 129 characters',
      field: 'idempotency_key',
      call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: chars(129, 'k') })),
    },
    {
      name: 'idempotency_key with a control character',
      field: 'idempotency_key',
      call: (api, f) => api.adjustStock(adjust(f, { idempotencyKey: 'key\u0000' })),
    },
    { name: 'note of 501 characters', field: 'note', call: (api, f) => api.adjustStock(adjust(f, { note: chars(501) })) },
    { name: 'note with a control character', field: 'note', call: (api, f) => api.adjustStock(adjust(f, { note: 'bad\u0008note' })) },
    { name: 'malformed location_id', field: 'location_id', call: (api, f) => api.adjustStock(adjust(f, { locationId: 'shop-1' })) },
  ],
  BatchGetStockLevels: [
    { name: 'no ids', field: 'product_ids', call: (api) => api.batchGetStockLevels({ productIds: [] }) },
    { name: 'an empty id', field: 'product_ids[0]', call: (api) => api.batchGetStockLevels({ productIds: [''] }) },
    {
      name: 'a malformed second id',
      field: 'product_ids[1]',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId, 'milk'] }),
    },
    {
      name: 'a repeated id',
      field: 'product_ids[1]',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId, f.productId] }),
    },
    {
      name: 'a repeated id in other case',
      field: 'product_ids[2]',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId, f.otherProductId, f.productId.toUpperCase()] }),
    },
    {
      name: '1001 ids',
      field: 'product_ids',
      call: (api) => api.batchGetStockLevels({ productIds: Array.from({ length: 1001 }, () => randomUUID()) }),
    },
    {
      name: 'malformed location_id',
      field: 'location_id',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId], locationId: 'x' }),
    },
    {
      name: 'a location and a destination',
      field: 'destination',
      call: (api, f) =>
        api.batchGetStockLevels({ productIds: [f.productId], locationId: randomUUID(), destination: { postalCode: '10115' } }),
    },
    {
      name: 'an empty destination',
      field: 'destination',
      call: (api, f) => api.batchGetStockLevels({ productIds: [f.productId], destination: {} }),
    },
    {
      name: 'a destination latitude of 90.5',
      field: 'destination.coordinates.latitude',
      call: (api, f) =>
        api.batchGetStockLevels({ productIds: [f.productId], destination: { coordinates: { latitude: 90.5, longitude: 0 } } }),
    },
  ],
  UpdateStockSettings: [
    {
      name: 'missing product_id',
      field: 'product_id',
      call: (api) => api.updateStockSettings({ safetyStock: 1, updateMask: ['safety_stock'] }),
    },
    {
      name: 'malformed location_id',
      field: 'location_id',
      call: (api, f) => api.updateStockSettings({ productId: f.productId, locationId: 'x', safetyStock: 1, updateMask: ['safety_stock'] }),
    },
    { name: 'no update_mask', field: 'update_mask', call: (api, f) => api.updateStockSettings({ productId: f.productId, safetyStock: 1 }) },
    {
      name: 'an unknown mask path',
      field: 'update_mask',
      call: (api, f) => api.updateStockSettings({ productId: f.productId, updateMask: ['available'] }),
    },
    {
      name: 'a negative safety stock',
      field: 'safety_stock',
      call: (api, f) => api.updateStockSettings({ productId: f.productId, safetyStock: -1, updateMask: ['safety_stock'] }),
    },
    {
      name: 'a safety stock of 1,000,001',
      field: 'safety_stock',
      call: (api, f) => api.updateStockSettings({ productId: f.productId, safetyStock: 1_000_001, updateMask: ['safety_stock'] }),
    },
    {
      name: 'a negative threshold',
      field: 'low_stock_threshold',
      call: (api, f) => api.updateStockSettings({ productId: f.productId, lowStockThreshold: -1, updateMask: ['low_stock_threshold'] }),
    },
  ],
};

describeRequestValidation('stock', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [{ name: 'a truncated varint', method: 'AdjustStock', bytes: Buffer.from([0x10, 0xff, 0xff]) }]);
  });
});
