import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'chai';
import { sourceFiles } from '#test/support/source-files.js';

/**
 * One name, one layer: within a service, no exported name is declared in two
 * layers (a domain `updateOrder` beside a data `updateOrder` makes a reader
 * guess which one a handler calls). The import rules themselves are
 * dependency-cruiser's (.dependency-cruiser.cjs, npm run lint:deps).
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const LAYERS = ['transport', 'domain', 'data', 'saga', 'consumers', 'contract', 'payments', 'inventory'];
const EXPORT = /^export (?:async )?(?:function|const|let|class|interface|type|enum) (\w+)/gm;

/** Exported name → the files (one per layer at most, we hope) that declare it. */
function exportsByName(service: string): Map<string, { layer: string; file: string }[]> {
  const names = new Map<string, { layer: string; file: string }[]>();
  for (const layer of LAYERS) {
    for (const file of sourceFiles(join(ROOT, 'services', service, layer))) {
      for (const match of readFileSync(file, 'utf8').matchAll(EXPORT)) {
        const found = names.get(match[1]!) ?? [];
        found.push({ layer, file: relative(ROOT, file) });
        names.set(match[1]!, found);
      }
    }
  }
  return names;
}

describe('structure: one name, one layer', () => {
  for (const service of readdirSync(join(ROOT, 'services'))) {
    it(`services/${service}: no exported name is declared in two layers`, () => {
      const clashes = [...exportsByName(service)]
        .filter(([, places]) => new Set(places.map((p) => p.layer)).size > 1)
        .map(([name, places]) => `${name}: ${places.map((p) => p.file).join(', ')}`);
      expect(clashes).to.deep.equal([]);
    });
  }
});
