import type { Comparison, Disagreement } from './compare.js';
import type { RepairOutcome } from './repair.js';

const REPAIR_WORDS = { release: 'repair: release', commit: 'repair: commit', restock: 'repair: restock', none: 'needs a human' } as const;

/** One line per disagreement: both ids, both statuses, what is wrong, what --repair would do. */
export function disagreementLine(d: Disagreement): string {
  return (
    `DISAGREEMENT order ${d.orderId ?? '(none)'} ${d.orderStatus ?? '-'} / reservation ${d.reservationId ?? '(none)'} ` +
    `${d.reservationStatus ?? '-'}: ${d.problem} [${REPAIR_WORDS[d.repair.action]}]`
  );
}

export const repairLine = (r: RepairOutcome): string =>
  `REPAIR ${r.action} order ${r.orderId ?? '(none)'} / reservation ${r.reservationId ?? '(none)'}: ${r.ok ? 'done' : 'FAILED'}, ${r.message}`;

export function summaryLine(result: Comparison, repairs: readonly RepairOutcome[] | undefined): string {
  const repaired = repairs
    ? `; ${repairs.filter((r) => r.ok).length} repaired, ${repairs.filter((r) => !r.ok).length} repair(s) failed`
    : '';
  const base = `${result.orders} orders and ${result.reservations} reservations compared, ${result.inFlight} in flight`;
  const found = result.disagreements.length === 0 ? 'everything agrees' : `${result.disagreements.length} disagreement(s)`;
  return `${base}${repaired}: ${repairs ? 'after repair, ' : ''}${found}`;
}
