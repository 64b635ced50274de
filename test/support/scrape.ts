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

/** Reads the `# TYPE` lines of a Prometheus text exposition: metric name → counter, gauge, histogram… */
export async function scrapeTypes(port: number): Promise<Map<string, string>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  const types = new Map<string, string>();
  for (const match of (await response.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

/**
 * Sum of every series of `name` whose labels include all of `labels` (e.g. `method="/x/Y"`),
 * or undefined when no series matches. For polling and for "before" snapshots, where a
 * labelled counter not yet incremented is legitimately absent.
 */
export function findMetric(series: Map<string, number>, name: string, ...labels: string[]): number | undefined {
  let total: number | undefined;
  for (const [key, value] of series) {
    const base = key.includes('{') ? key.slice(0, key.indexOf('{')) : key;
    if (base === name && labels.every((l) => key.includes(l))) total = (total ?? 0) + value;
  }
  return total;
}

/**
 * Like findMetric, but a metric the service does not export fails the test: a renamed
 * metric or a wrong label must not read as 0 and pass an assertion about 0.
 */
export function metricValue(series: Map<string, number>, name: string, ...labels: string[]): number {
  const value = findMetric(series, name, ...labels);
  if (value === undefined) {
    const known = [...new Set([...series.keys()].filter((k) => k.startsWith(name)))].slice(0, 5);
    throw new Error(`metric ${name}{${labels.join(',')}} is not exported (series of that name: ${known.join(' ') || 'none'})`);
  }
  return value;
}

/** How much a counter grew between two scrapes; absent before counts as 0, absent after fails. */
export function metricDelta(before: Map<string, number>, after: Map<string, number>, name: string, ...labels: string[]): number {
  return metricValue(after, name, ...labels) - (findMetric(before, name, ...labels) ?? 0);
}
