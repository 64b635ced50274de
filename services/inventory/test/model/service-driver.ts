import { status as GrpcCode, type ServiceError } from '@grpc/grpc-js';
import { AdjustmentReason, ReservationStatus, type Reservation, type StockLevel } from '#libs/contracts/larder/inventory/v1/resources.js';
import type { InventoryDeps } from '../../domain/deps.js';
import { expireReservations } from '../../domain/reservations/expire-reservations.js';
import type { InventoryApi } from '../harness.js';
import type { Answer, ModelReservation, Op, StateView, Stock, Status } from './reservation-model.js';

/** The real ids of one run: index n of the model is products[n], orders[n], keys[n]. */
export interface RunIds {
  products: readonly string[];
  orders: readonly string[];
  keys: readonly string[];
}

const statusName: Record<ReservationStatus, Status | undefined> = {
  [ReservationStatus.RESERVATION_STATUS_RESERVED]: 'RESERVED',
  [ReservationStatus.RESERVATION_STATUS_COMMITTED]: 'COMMITTED',
  [ReservationStatus.RESERVATION_STATUS_RELEASED]: 'RELEASED',
  [ReservationStatus.RESERVATION_STATUS_EXPIRED]: 'EXPIRED',
  [ReservationStatus.RESERVATION_STATUS_UNSPECIFIED]: undefined,
  [ReservationStatus.UNRECOGNIZED]: undefined,
};

const reasonEnum = {
  RESTOCK: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
  DAMAGED: AdjustmentReason.ADJUSTMENT_REASON_DAMAGED,
  CORRECTION: AdjustmentReason.ADJUSTMENT_REASON_CORRECTION,
};

/**
 * Drives the real service (gRPC; the expiry sweep in-process, as the service's
 * own periodic job calls it) and translates its answers into the model's terms.
 */
export class ServiceDriver {
  constructor(
    private readonly api: InventoryApi,
    /** The running service's deps: its clock and pool, for the sweep. */
    private readonly deps: InventoryDeps,
    private readonly clock: { advance(ms: number): void },
    private readonly ids: RunIds,
  ) {}

  private readonly productIndex = (id: string) => this.ids.products.indexOf(id);

  private reservation(r: Reservation | undefined): ModelReservation {
    return {
      status: statusName[r!.status] ?? (`unexpected status ${r!.status}` as Status),
      items: r!.items.map((i) => ({ product: this.productIndex(i.productId), quantity: i.quantity })),
      expiresAt: r!.expireTime!.getTime(),
    };
  }

  private static stock(level: StockLevel | undefined): Stock {
    return { available: level!.available, reserved: level!.reserved, sold: level!.sold };
  }

  /** Runs one op; a gRPC error becomes its code, anything else is rethrown. */
  async call(op: Op): Promise<Answer> {
    try {
      return await this.send(op);
    } catch (error) {
      const code = (error as ServiceError).code;
      if (typeof code !== 'number') throw error;
      return { code: GrpcCode[code]! };
    }
  }

  private async send(op: Op): Promise<Answer> {
    const orderId = 'order' in op ? this.ids.orders[op.order]! : '';
    const ttl = (seconds: number) => ({ seconds, nanos: 0 });
    switch (op.kind) {
      case 'reserve': {
        const items = op.items.map((l) => ({ productId: this.ids.products[l.product]!, quantity: l.quantity }));
        const ttlField = op.ttlSeconds === undefined ? {} : { ttl: ttl(op.ttlSeconds) };
        return { code: 'OK', reservation: this.reservation((await this.api.reserveStock({ orderId, items, ...ttlField })).reservation) };
      }
      case 'commit':
        return { code: 'OK', reservation: this.reservation((await this.api.commitReservation({ orderId })).reservation) };
      case 'release':
        return { code: 'OK', reservation: this.reservation((await this.api.releaseReservation({ orderId })).reservation) };
      case 'extend':
        return {
          code: 'OK',
          reservation: this.reservation((await this.api.extendReservation({ orderId, ttl: ttl(op.ttlSeconds) })).reservation),
        };
      case 'adjust': {
        const { stockLevel } = await this.api.adjustStock({
          productId: this.ids.products[op.product]!,
          delta: op.delta,
          reason: reasonEnum[op.reason],
          idempotencyKey: this.ids.keys[op.key]!,
        });
        return { code: 'OK', stock: ServiceDriver.stock(stockLevel) };
      }
      case 'sweep':
        return { code: 'OK', expired: await expireReservations(this.deps) };
      case 'tick':
        this.clock.advance(op.ms);
        return { code: 'OK' };
    }
  }

  /** Stock of every product (one call) and the reservations of `orders` (calls in parallel; NOT_FOUND is undefined). */
  async state(orders: readonly number[]): Promise<StateView> {
    const [levels, ...reservations] = await Promise.all([
      this.api.batchGetStockLevels({ productIds: [...this.ids.products] }),
      ...orders.map((order) =>
        this.api.getReservation({ orderId: this.ids.orders[order]! }).then(
          (r) => this.reservation(r.reservation),
          (error: ServiceError) => {
            if (error.code === GrpcCode.NOT_FOUND) return undefined;
            throw error;
          },
        ),
      ),
    ]);
    return {
      stock: levels.stockLevels.map((l) => ServiceDriver.stock(l)),
      reservations: new Map(orders.map((order, n) => [order, reservations[n]])),
    };
  }
}
