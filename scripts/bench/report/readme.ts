import { readFileSync, writeFileSync } from 'node:fs';

export const README_BEGIN = '<!-- bench:begin (written by npm run bench) -->';
export const README_END = '<!-- bench:end -->';

/**
 * Replaces what lies between the two markers in the README with `text`. The
 * file is read right before writing (others edit other sections); a README
 * without the markers is left alone, with a warning.
 */
export function writeReadmeTable(path: string, text: string): boolean {
  const readme = readFileSync(path, 'utf8');
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) {
    console.warn(`${path} has no bench markers; the table was not written there`);
    return false;
  }
  writeFileSync(path, `${readme.slice(0, begin + README_BEGIN.length)}\n${text}\n${readme.slice(end)}`);
  return true;
}
