/** Nearest-rank percentile of an ascending array (0 when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Ascending copy of the first `count` values. */
export function sortedPrefix(values: Float64Array, count: number): Float64Array {
  return values.slice(0, count).sort();
}
