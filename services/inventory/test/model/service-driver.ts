import { status as GrpcCode, type ServiceError } from '@grpc/grpc-js';
import { AdjustmentReason, ReservationStatus, type Reservation, type StockLevel } from '#libs/contracts/larder/inventory/v1/resources.js';
import type { InventoryDeps } from '../../domain/deps.js';
import { expireReservations } from '../../domain/reservations/expire-reservations.js';
import type { InventoryApi } from '../harness.js';
import { randomUUID } from 'node:crypto';
import { AllocationPolicy, TransferStatus, type Transfer } from '#libs/contracts/larder/inventory/v1/locations.js';
import type { Answer, ModelReservation, ModelTransfer, Op, Routing, StateView, Stock, Status } from './reservation-model.js';

/** Where the model's destinations are: d0 in model-a's area and near it, d1 in model-b's. */
export const MODEL_DESTINATIONS = [
  { postalCode: '10115', coordinates: { latitude: 52.521, longitude: 13.401 } },
  { postalCode: '20095', coordinates: { latitude: 52.401, longitude: 13.101 } },
];

/** The real ids of one run: index n of the model is products[n], locations[n], orders[n], keys[n]. */
export interface RunIds {
  products: readonly string[];
  locations: readonly string[];
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

  /** The server's id of each transfer key the run has created. */
  private readonly transferIds = new Map<number, { id: string; quantity: number }>();
  private readonly productIndex = (id: string) => this.ids.products.indexOf(id);
  private readonly locationIndex = (id: string) => this.ids.locations.indexOf(id);

  private routing(routing: Routing) {
    if (routing.kind === 'none') return {};
    if (routing.kind === 'pinned') return { locationId: this.ids.locations[routing.location]! };
    const policy =
      routing.policy === 'SINGLE_LOCATION'
        ? AllocationPolicy.ALLOCATION_POLICY_SINGLE_LOCATION
        : AllocationPolicy.ALLOCATION_POLICY_SPLIT_ALLOWED;
    return { destination: MODEL_DESTINATIONS[routing.destination], policy };
  }

  private reservation(r: Reservation | undefined): ModelReservation {
    return {
      status: statusName[r!.status] ?? (`unexpected status ${r!.status}` as Status),
      items: r!.items.map((i) => ({ product: this.productIndex(i.productId), quantity: i.quantity })),
      allocations: r!.allocations.map((a) => ({
        product: this.productIndex(a.productId),
        location: this.locationIndex(a.locationId),
        quantity: a.quantity,
      })),
      expiresAt: r!.expireTime!.getTime(),
    };
  }

  private static stock(level: StockLevel | undefined): Stock {
    return { available: level!.available, reserved: level!.reserved, sold: level!.sold, inTransit: level!.inTransit };
  }

  private transfer(t: Transfer | undefined): ModelTransfer {
    const line = t!.lines[0]!;
    const status = { [TransferStatus.TRANSFER_STATUS_IN_TRANSIT]: 'IN_TRANSIT', [TransferStatus.TRANSFER_STATUS_RECEIVED]: 'RECEIVED' }[
      t!.status as number
    ] as ModelTransfer['status'] | undefined;
    return {
      from: this.locationIndex(t!.fromLocationId),
      to: this.locationIndex(t!.toLocationId),
      product: this.productIndex(line.productId),
      quantity: line.quantity,
      status: status ?? 'CANCELLED',
      ...(status === 'RECEIVED' ? { lost: line.quantity - line.receivedQuantity } : {}),
    };
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
        const routing = this.routing(op.routing);
        return {
          code: 'OK',
          reservation: this.reservation((await this.api.reserveStock({ orderId, items, ...ttlField, ...routing })).reservation),
        };
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
          locationId: this.ids.locations[op.location]!,
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
      case 'send': {
        const { transfer } = await this.api.createTransfer({
          fromLocationId: this.ids.locations[op.from]!,
          toLocationId: this.ids.locations[op.to]!,
          items: [{ productId: this.ids.products[op.product]!, quantity: op.quantity }],
          idempotencyKey: `${this.ids.keys[0]!}-transfer-${op.transfer}`,
        });
        if (!this.transferIds.has(op.transfer)) this.transferIds.set(op.transfer, { id: transfer!.id, quantity: op.quantity });
        return { code: 'OK', transfer: this.transfer(transfer) };
      }
      case 'receive': {
        // A key never created: an id no transfer has (NOT_FOUND).
        const known = this.transferIds.get(op.transfer) ?? { id: randomUUID(), quantity: 0 };
        const lost = Math.min(op.lost, known.quantity);
        const short =
          lost > 0
            ? { received: [{ productId: '', quantity: known.quantity - lost }], lossReason: AdjustmentReason.ADJUSTMENT_REASON_LOST }
            : {};
        if (lost > 0) short.received![0]!.productId = await this.productOf(known.id);
        const { transfer } = await this.api.receiveTransfer({ id: known.id, ...short });
        return { code: 'OK', transfer: this.transfer(transfer) };
      }
      case 'cancelTransfer': {
        const id = this.transferIds.get(op.transfer)?.id ?? randomUUID();
        return { code: 'OK', transfer: this.transfer((await this.api.cancelTransfer({ id, reason: 'model' })).transfer) };
      }
    }
  }

  private async productOf(transferId: string): Promise<string> {
    return (await this.api.getTransfer({ id: transferId })).transfer!.lines[0]!.productId;
  }

  /** Stock of every product at every location (one call each) and the reservations of `orders` (calls in parallel; NOT_FOUND is undefined). */
  async state(orders: readonly number[]): Promise<StateView> {
    const [levels, ...reservations] = await Promise.all([
      Promise.all(this.ids.locations.map((locationId) => this.api.batchGetStockLevels({ productIds: [...this.ids.products], locationId }))),
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
      stock: this.ids.products.map((_, p) => levels.map((atLocation) => ServiceDriver.stock(atLocation.stockLevels[p]))),
      reservations: new Map(orders.map((order, n) => [order, reservations[n]])),
    };
  }
}
