/** Reads a Prometheus text exposition into `name{labels}` → value, for tests. */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const series = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** Sum of every series of `name` whose labels include all of `labels` (e.g. `method="/x/Y"`). */
export function metricValue(series: Map<string, number>, name: string, ...labels: string[]): number {
  let total = 0;
  for (const [key, value] of series) {
    const base = key.includes('{') ? key.slice(0, key.indexOf('{')) : key;
    if (base === name && labels.every((l) => key.includes(l))) total += value;
  }
  return total;
}
