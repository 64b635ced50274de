import { randomUUID } from 'node:crypto';
import { GetProductRequest, ReserveStockRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { CreateOrderRequest } from '#libs/contracts/larder/order/v1/order_service.js';
import { frame } from './grpc-frame.js';
import type { RequestShape } from './spec.js';

/** A function giving the framed body of call number `i`. */
export type BodyMaker = (i: number) => Buffer;

/** Encodes with the ts-proto generated `encode`, the same bytes a grpc-js client would send. */
export function bodyMaker(shape: RequestShape): BodyMaker {
  switch (shape.kind) {
    case 'fixed': {
      const body = frame(Buffer.from(shape.base64, 'base64'));
      return () => body;
    }
    case 'reserveStock': {
      const ids = shape.productIds;
      return (i) =>
        frame(
          ReserveStockRequest.encode({
            orderId: randomUUID(),
            items: [{ productId: ids[i % ids.length]!, quantity: 1 }],
            ttl: undefined,
            locationId: '',
            destination: undefined,
            policy: 0,
          }).finish(),
        );
    }
    case 'reserveStockRouted': {
      const ids = shape.productIds;
      const destinations = shape.destinations;
      return (i) => {
        const { postalCode, latitude, longitude } = destinations[i % destinations.length]!;
        return frame(
          ReserveStockRequest.encode({
            orderId: randomUUID(),
            items: [{ productId: ids[i % ids.length]!, quantity: 1 }],
            ttl: undefined,
            locationId: '',
            destination: { postalCode, coordinates: { latitude, longitude } },
            policy: 0,
          }).finish(),
        );
      };
    }
    case 'getProduct': {
      const bodies = shape.productIds.map((id) => frame(GetProductRequest.encode({ id, showDeleted: false }).finish()));
      return (i) => bodies[i % bodies.length]!;
    }
    case 'createOrder': {
      const ids = shape.productIds;
      return (i) =>
        frame(
          CreateOrderRequest.encode({
            customerId: randomUUID(),
            items: [{ productId: ids[i % ids.length]!, quantity: 1 }],
            idempotencyKey: randomUUID(),
            paymentToken: 'tok_ok',
            shippingAddress: undefined,
            fulfilment: undefined,
          }).finish(),
        );
    }
  }
}
