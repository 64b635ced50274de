/**
 * `npm run build`: compiles the code production runs (tsconfig.build.json: libs/,
 * services/ and the scripts an operator runs, no tests) into dist/, which then
 * runs on plain node, without tsx:
 *
 *   node dist/services/inventory/main.js        node dist/scripts/migrate.js inventory
 *
 * Steps: remove dist/ (so nothing deleted or renamed in the sources lingers), tsc,
 * then what tsc does not emit: dist/package.json (ES modules, and `#libs/*`
 * resolving to dist/libs/*; no `#test/*`, since dist holds no test code) and the
 * files read from disk at run time next to the code (libs/grpc/reflection.ts
 * reads ../contracts/descriptors.binpb relative to its own URL; migrations read
 * the SQL functions they apply from their service's data/sql/*.sql).
 * Run from the repository root; the Dockerfile's build stage runs it as well.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** dist/package.json: what the repository's package.json says to node, minus the test imports. */
export const DIST_PACKAGE = { type: 'module', imports: { '#libs/*': './libs/*' } } as const;

/**
 * Files the compiled code reads from disk, relative to the root and to dist/ alike:
 * the descriptors, and every services/<service>/data/sql/*.sql (listed, so that a
 * new version of a function ships without an edit here).
 */
export function runtimeFiles(root: string = ROOT): string[] {
  const services = readdirSync(join(root, 'services'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const sql = services.flatMap(({ name }) => {
    const folder = `services/${name}/data/sql`;
    if (!existsSync(join(root, folder))) return [];
    return readdirSync(join(root, folder))
      .filter((file) => file.endsWith('.sql'))
      .map((file) => `${folder}/${file}`);
  });
  return ['libs/contracts/descriptors.binpb', ...sql];
}

export function buildDist(root: string = ROOT): void {
  const dist = join(root, 'dist');
  rmSync(dist, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (${run.signal ?? `exit ${run.status}`})`);
  writeFileSync(join(dist, 'package.json'), `${JSON.stringify(DIST_PACKAGE, null, 2)}\n`);
  for (const file of runtimeFiles(root)) {
    mkdirSync(dirname(join(dist, file)), { recursive: true });
    copyFileSync(join(root, file), join(dist, file));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    buildDist(process.cwd());
    console.log('build: dist/ is ready (node dist/services/<service>/main.js)');
  } catch (error) {
    console.error(`build failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
