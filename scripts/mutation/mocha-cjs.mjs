// Preloaded (NODE_OPTIONS --import) by `npm run test:mutation` only.
// @stryker-mutator/mocha-runner 9.x requires mocha's CLI helpers without an
// extension (mocha/lib/cli/run-helpers); mocha 12 ships them as .cjs, which
// Node's require does not try. Runner 10.x would not need this but requires
// Node 22; this project runs on Node 20. Letting require try .cjs is the whole shim.
import Module from 'node:module';

Module._extensions['.cjs'] ??= Module._extensions['.js'];
