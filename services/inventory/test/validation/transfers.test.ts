import { randomUUID } from 'node:crypto';
import type { CreateTransferRequest, ReceiveTransferRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { chars, INT32_MAX, INT32_MIN } from '#test/support/request-validation.js';
import { describeRequestValidation, itRefusesUndecodable, type Fixtures, type Matrix } from './harness.js';

/**
 * Request validation of CreateTransfer, GetTransfer, ReceiveTransfer and
 * CancelTransfer. Every case is refused before the database is read, so
 * location and transfer ids can be any UUIDs; what needs a real transfer (a
 * receipt of more than was sent) is in ../transfers.test.ts.
 */

const [FROM, TO] = [randomUUID(), randomUUID()];

const create = (f: Fixtures, overrides: Partial<CreateTransferRequest> = {}): CreateTransferRequest => ({
  fromLocationId: FROM,
  toLocationId: TO,
  items: [{ productId: f.productId, quantity: 1 }],
  idempotencyKey: `validation-${randomUUID()}`,
  note: '',
  ...overrides,
});

const receive = (overrides: Partial<ReceiveTransferRequest> = {}): ReceiveTransferRequest => ({
  id: randomUUID(),
  received: [],
  lossReason: AdjustmentReason.ADJUSTMENT_REASON_UNSPECIFIED,
  ...overrides,
});

const matrix: Matrix = {
  CreateTransfer: [
    {
      name: 'missing from_location_id',
      field: 'from_location_id',
      call: (api, f) => api.createTransfer(create(f, { fromLocationId: '' })),
    },
    {
      name: 'malformed from_location_id',
      field: 'from_location_id',
      call: (api, f) => api.createTransfer(create(f, { fromLocationId: 'depot' })),
    },
    { name: 'missing to_location_id', field: 'to_location_id', call: (api, f) => api.createTransfer(create(f, { toLocationId: '' })) },
    {
      name: 'malformed to_location_id',
      field: 'to_location_id',
      call: (api, f) => api.createTransfer(create(f, { toLocationId: 'shop' })),
    },
    { name: 'to the sender itself', field: 'to_location_id', call: (api, f) => api.createTransfer(create(f, { toLocationId: FROM })) },
    {
      name: 'to the sender itself in other case',
      field: 'to_location_id',
      call: (api, f) => api.createTransfer(create(f, { toLocationId: FROM.toUpperCase() })),
    },
    { name: 'no items', field: 'items', call: (api, f) => api.createTransfer(create(f, { items: [] })) },
    {
      name: '101 items',
      field: 'items',
      call: (api, f) =>
        api.createTransfer(create(f, { items: Array.from({ length: 101 }, () => ({ productId: randomUUID(), quantity: 1 })) })),
    },
    {
      name: 'an item without product_id',
      field: 'items[0].product_id',
      call: (api, f) => api.createTransfer(create(f, { items: [{ productId: '', quantity: 1 }] })),
    },
    {
      name: 'a malformed second product_id',
      field: 'items[1].product_id',
      call: (api, f) =>
        api.createTransfer(
          create(f, {
            items: [
              { productId: f.productId, quantity: 1 },
              { productId: 'milk', quantity: 1 },
            ],
          }),
        ),
    },
    {
      name: 'a repeated product',
      field: 'items[1].product_id',
      call: (api, f) =>
        api.createTransfer(
          create(f, {
            items: [
              { productId: f.productId, quantity: 1 },
              { productId: f.productId.toUpperCase(), quantity: 2 },
            ],
          }),
        ),
    },
    {
      name: 'zero quantity',
      field: 'items[0].quantity',
      call: (api, f) => api.createTransfer(create(f, { items: [{ productId: f.productId, quantity: 0 }] })),
    },
    {
      name: 'negative quantity',
      field: 'items[1].quantity',
      call: (api, f) =>
        api.createTransfer(
          create(f, {
            items: [
              { productId: f.productId, quantity: 1 },
              { productId: f.otherProductId, quantity: -1 },
            ],
          }),
        ),
    },
    {
      name: 'quantity over 1,000,000',
      field: 'items[0].quantity',
      call: (api, f) => api.createTransfer(create(f, { items: [{ productId: f.productId, quantity: 1_000_001 }] })),
    },
    {
      name: 'quantity 2^31-1',
      field: 'items[0].quantity',
      call: (api, f) => api.createTransfer(create(f, { items: [{ productId: f.productId, quantity: INT32_MAX }] })),
    },
    {
      name: 'quantity -2^31',
      field: 'items[0].quantity',
      call: (api, f) => api.createTransfer(create(f, { items: [{ productId: f.productId, quantity: INT32_MIN }] })),
    },
    { name: 'missing idempotency_key', field: 'idempotency_key', call: (api, f) => api.createTransfer(create(f, { idempotencyKey: '' })) },
    {
      name: 'idempotency_key of 129 characters',
      field: 'idempotency_key',
      call: (api, f) => api.createTransfer(create(f, { idempotencyKey: chars(129, 'k') })),
    },
    {
      name: 'idempotency_key with a control character',
      field: 'idempotency_key',
      call: (api, f) => api.createTransfer(create(f, { idempotencyKey: 'key\u0007' })),
    },
    { name: 'note of 501 characters', field: 'note', call: (api, f) => api.createTransfer(create(f, { note: chars(501) })) },
    { name: 'note with a control character', field: 'note', call: (api, f) => api.createTransfer(create(f, { note: 'bad\u0000note' })) },
  ],
  GetTransfer: [
    { name: 'missing id', field: 'id', call: (api) => api.getTransfer({ id: '' }) },
    { name: 'malformed id', field: 'id', call: (api) => api.getTransfer({ id: 'transfer-1' }) },
  ],
  ReceiveTransfer: [
    { name: 'missing id', field: 'id', call: (api) => api.receiveTransfer(receive({ id: '' })) },
    { name: 'malformed id', field: 'id', call: (api) => api.receiveTransfer(receive({ id: '1; drop table transfers' })) },
    {
      name: 'a line without product_id',
      field: 'received[0].product_id',
      call: (api) => api.receiveTransfer(receive({ received: [{ productId: '', quantity: 1 }] })),
    },
    {
      name: 'a repeated product',
      field: 'received[1].product_id',
      call: (api, f) =>
        api.receiveTransfer(
          receive({
            received: [
              { productId: f.productId, quantity: 1 },
              { productId: f.productId, quantity: 1 },
            ],
          }),
        ),
    },
    {
      name: 'negative quantity',
      field: 'received[0].quantity',
      call: (api, f) => api.receiveTransfer(receive({ received: [{ productId: f.productId, quantity: -1 }] })),
    },
    {
      name: 'quantity 2^31-1',
      field: 'received[0].quantity',
      call: (api, f) => api.receiveTransfer(receive({ received: [{ productId: f.productId, quantity: INT32_MAX }] })),
    },
    {
      name: '101 lines',
      field: 'received',
      call: (api) =>
        api.receiveTransfer(receive({ received: Array.from({ length: 101 }, () => ({ productId: randomUUID(), quantity: 0 })) })),
    },
    {
      name: 'RESTOCK as loss_reason',
      field: 'loss_reason',
      call: (api) => api.receiveTransfer(receive({ lossReason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK })),
    },
    {
      name: 'CORRECTION as loss_reason',
      field: 'loss_reason',
      call: (api) => api.receiveTransfer(receive({ lossReason: AdjustmentReason.ADJUSTMENT_REASON_CORRECTION })),
    },
    {
      name: 'unknown loss_reason 99',
      field: 'loss_reason',
      call: (api) => api.receiveTransfer(receive({ lossReason: 99 as AdjustmentReason })),
    },
    {
      name: 'negative loss_reason -1',
      field: 'loss_reason',
      call: (api) => api.receiveTransfer(receive({ lossReason: -1 as AdjustmentReason })),
    },
  ],
  CancelTransfer: [
    { name: 'missing id', field: 'id', call: (api) => api.cancelTransfer({ id: '', reason: '' }) },
    { name: 'malformed id', field: 'id', call: (api) => api.cancelTransfer({ id: 'x', reason: '' }) },
    { name: 'reason of 501 characters', field: 'reason', call: (api) => api.cancelTransfer({ id: randomUUID(), reason: chars(501) }) },
    {
      name: 'reason with a control character',
      field: 'reason',
      call: (api) => api.cancelTransfer({ id: randomUUID(), reason: 'oops\u001b' }),
    },
  ],
};

describeRequestValidation('transfers', matrix, (context) => {
  describe('undecodable requests', () => {
    itRefusesUndecodable(context, [
      { name: 'a truncated length-delimited item', method: 'CreateTransfer', bytes: Buffer.from([0x1a, 0x10, 0x0a]) },
      { name: 'a truncated varint', method: 'ReceiveTransfer', bytes: Buffer.from([0x18, 0xff, 0xff]) },
    ]);
  });
});
