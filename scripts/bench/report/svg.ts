import type { CaseResult } from '../result.js';

/** What the chart plots: successful calls a second, except checkout, plotted as confirmed orders a second. */
export const chartValue = (r: CaseResult): number => r.extra.confirmedPerSecond ?? r.rps;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal bar chart of throughput per case, Larder in one colour and the
 * baselines in another, hand-written SVG (no dependency). ListProducts is
 * latency, not throughput, so it is left out.
 */
export function throughputSvg(results: readonly CaseResult[], title: string): string {
  // Each Larder case right under the baselines it is compared with: reservations, then checkouts.
  const section = (r: CaseResult) => (/^(classic|checkout|scale-checkout)-/.test(r.id) ? 1 : 0);
  const rows = results.filter((r) => !r.id.startsWith('list-')).sort((a, b) => section(a) - section(b));
  const max = Math.max(1, ...rows.map(chartValue));
  const labelWidth = 430;
  const barWidth = 420;
  const rowHeight = 22;
  const top = 48;
  const height = top + rows.length * rowHeight + 40;
  const width = labelWidth + barWidth + 90;
  const bars = rows.map((r, i) => {
    const y = top + i * rowHeight;
    const value = chartValue(r);
    const w = Math.max(1, (value / max) * barWidth);
    const colour = r.kind === 'larder' ? '#d9480f' : '#4c6ef5';
    const label = r.extra.confirmedPerSecond !== undefined ? `${r.label} (confirmed/s)` : r.label;
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${colour}"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 15}">${value.toFixed(0)}</text>`,
    ].join('');
  });
  const legendY = height - 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...bars,
    `<rect x="12" y="${legendY - 10}" width="12" height="12" fill="#d9480f"/><text x="30" y="${legendY}">Larder</text>`,
    `<rect x="100" y="${legendY - 10}" width="12" height="12" fill="#4c6ef5"/><text x="118" y="${legendY}">baseline (no-op, naive, pgbench)</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
