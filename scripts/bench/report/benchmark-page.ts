import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The page a full run publishes its tables on, relative to the repository root. */
export const BENCHMARK_PAGE = 'docs/benchmark.md';
export const PAGE_BEGIN = '<!-- bench:begin (written by npm run bench) -->';
export const PAGE_END = '<!-- bench:end -->';

/** The page's text and where its markers are; throws, naming the file, when it is missing or lacks them. */
function readPage(path: string): { page: string; begin: number; end: number } {
  if (!existsSync(path))
    throw new Error(`${path} does not exist: npm run bench writes its table there, between ${PAGE_BEGIN} and ${PAGE_END}`);
  const page = readFileSync(path, 'utf8');
  const begin = page.indexOf(PAGE_BEGIN);
  const end = page.indexOf(PAGE_END);
  if (begin < 0 || end < begin)
    throw new Error(`${path} has no ${PAGE_BEGIN} … ${PAGE_END} markers: npm run bench writes its table between them`);
  return { page, begin, end };
}

/** Fails before a long run when the page its table goes to is missing or has no markers. */
export function checkBenchmarkPage(path: string): void {
  readPage(path);
}

/**
 * Replaces what lies between the two markers of the benchmark page with
 * `text`. The file is read right before writing (others edit other sections).
 */
export function writeBenchmarkTable(path: string, text: string): void {
  const { page, begin, end } = readPage(path);
  writeFileSync(path, `${page.slice(0, begin + PAGE_BEGIN.length)}\n${text}\n${page.slice(end)}`);
}
