import { status as Code, type ServiceError } from '@grpc/grpc-js';
import * as inventoryMessages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason } from '#libs/contracts/larder/inventory/v1/resources.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { cancelRestockOf } from '../../services/order/operator.js';
import type { Disagreement } from './compare.js';

/** What a repair did: the call made and whether inventory accepted it. */
export interface RepairOutcome {
  orderId: string | null;
  reservationId: string | null;
  action: 'release' | 'commit' | 'restock';
  ok: boolean;
  message: string;
}

export interface Repairer {
  /** Applies a disagreement's repair; undefined when it has none (needs a human). */
  repair(disagreement: Disagreement): Promise<RepairOutcome | undefined>;
  close(): void;
}

const describe = (error: unknown) => {
  const e = error as ServiceError;
  return typeof e.code === 'number' ? `${Code[e.code]}: ${e.details}` : (error as Error).message;
};

/**
 * Repairs through the inventory's public gRPC API only, with calls that are
 * idempotent (ReleaseReservation, CommitReservation, and AdjustStock under the
 * saga's own restock key), so a repair racing the saga, or run twice, does no
 * more than the saga would have. It never writes either database.
 */
export function inventoryRepairer(options: { address: string; apiKey: string; timeoutMs: number }): Repairer {
  const api = createPromiseClient(InventoryServiceService, inventoryMessages, options.address, {
    defaults: { apiKey: options.apiKey, timeoutMs: options.timeoutMs, correlationId: `reconcile-${Date.now()}` },
  });
  return {
    async repair(d) {
      const { repair } = d;
      if (repair.action === 'none') return undefined;
      const orderId = (d.orderId ?? d.reservationId)!;
      const outcome = { orderId: d.orderId, reservationId: d.reservationId, action: repair.action };
      try {
        if (repair.action === 'release') {
          await api.releaseReservation({ orderId, reason: `reconciler: ${d.problem}`.slice(0, 500) });
          return { ...outcome, ok: true, message: 'reservation released' };
        }
        if (repair.action === 'commit') {
          await api.commitReservation({ orderId });
          return { ...outcome, ok: true, message: 'reservation committed' };
        }
        for (const item of repair.items) {
          await api.adjustStock({
            productId: item.productId,
            delta: item.quantity,
            reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
            ...cancelRestockOf(orderId, item.productId),
            // A line of a split product has its own key, and every line goes back where it was sold from.
            ...(item.idempotencyKey ? { idempotencyKey: item.idempotencyKey } : {}),
            locationId: item.locationId ?? '',
          });
        }
        return { ...outcome, ok: true, message: `${repair.items.length} product(s) restocked` };
      } catch (error) {
        return { ...outcome, ok: false, message: describe(error) };
      }
    },
    close: () => api.close(),
  };
}
