/**
 * `npm run test:soak`: the long soaks, with the same harness as `npm test`
 * (.mocharc.json: tsx, the root hooks, the timeout, --exit) but only these
 * files; `npm test` runs them short (MODEL_RUNS defaults to 1000), the soak
 * script at full size (MODEL_RUNS=10000).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const base = JSON.parse(readFileSync(join(import.meta.dirname, '.mocharc.json'), 'utf8'));

export default { ...base, spec: ['services/inventory/test/reservation-model.test.ts'] };
