import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The shipped TypeScript files under `dir`, its subfolders included: no test
 * file and nothing in a `test/` folder. A folder that does not exist has none
 * (not every service has every layer), for the structure checks.
 */
export function sourceFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}
