// The layer rules the build enforces (npm run lint:deps, part of npm run lint).
// Each service is transport (gRPC handlers) → domain (use cases and rules) →
// data (knex queries); saga and consumers sit beside transport as drivers of the
// domain; contract/ maps domain records to generated protobuf types. app.ts and
// main.ts are the composition root and may import anything of their own service.
const SERVICE = '^services/([^/]+)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle means two modules are one; break it with a port in deps or by moving the shared piece.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'transport-not-data',
      comment: 'Handlers decode, validate and map errors; they reach the database only through a domain use case.',
      severity: 'error',
      from: { path: `${SERVICE}transport/` },
      to: { path: `${SERVICE}data/` },
    },
    {
      name: 'consumers-through-domain',
      comment: 'An event consumer is a driver like a handler: it calls a domain use case, not data/.',
      severity: 'error',
      from: { path: `${SERVICE}consumers/` },
      to: { path: `${SERVICE}data/` },
    },
    {
      name: 'domain-not-outer-layers',
      comment: 'The domain knows neither its callers (transport, saga, consumers) nor the wire format (contract/).',
      severity: 'error',
      from: { path: `${SERVICE}domain/` },
      to: { path: `${SERVICE}(transport|saga|consumers|contract)/|${SERVICE}(app|main)\\.ts$` },
    },
    {
      name: 'types-from-domain-not-data',
      comment:
        "Types flow one way: a service's records and vocabulary are declared in its domain and data/ imports them; " +
        'the domain and the saga take from data/ only the functions they call. This sees `import type` and `import()` types; ' +
        'test/structure/types-flow.test.ts also catches a type inside a mixed `import { fn, type T }`.',
      severity: 'error',
      from: { path: `${SERVICE}(domain|saga)/` },
      to: { path: '^services/[^/]+/data/', dependencyTypes: ['type-only', 'type-import'] },
    },
    {
      name: 'adapters-not-data',
      comment: 'contract/ and the outbound adapters (inventory/, payments/) map domain records; they take them from the domain, not data/.',
      severity: 'error',
      from: { path: `${SERVICE}(contract|inventory|payments)/` },
      to: { path: '^services/[^/]+/data/' },
    },
    {
      name: 'domain-no-generated-contracts',
      comment: 'Generated protobuf code belongs to transport and contract/; the domain speaks its own records.',
      severity: 'error',
      from: { path: `${SERVICE}domain/` },
      to: { path: '^libs/contracts/' },
    },
    {
      name: 'domain-no-knex',
      comment: 'The domain runs no query itself; the pool and transactions it passes on are #libs/db/types (Pool, Tx).',
      severity: 'error',
      from: { path: `${SERVICE}domain/` },
      to: { path: 'node_modules/(knex|pg)/' },
    },
    {
      name: 'services-apart',
      comment: 'A service (tests included) reaches another only over gRPC and events: never its folder.',
      severity: 'error',
      from: { path: SERVICE },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'scripts-through-front-door',
      comment:
        'Scripts (tests and the bench included) see a service through its front door, services/<name>/operator.ts, or its gRPC API: ' +
        'never its layers, so those can change without breaking an operator script.',
      severity: 'error',
      from: { path: '^scripts/' },
      to: { path: '^services/', pathNot: '^services/[^/]+/operator\\.ts$' },
    },
    {
      name: 'libs-not-services',
      comment: 'libs/ is shared by both services, so it may not depend on either.',
      severity: 'error',
      from: { path: '^libs/', pathNot: '/test/' },
      to: { path: '^services/' },
    },
    {
      name: 'production-not-test-code',
      comment: 'Nothing that ships (dist/, images) imports a test or a test helper.',
      severity: 'error',
      from: { path: '^(libs|services|scripts)/', pathNot: '(^|/)test/|\\.test\\.ts$|^scripts/(bench|mutation|measure-relay-backlog)' },
      to: { path: '(^|/)test/|\\.test\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a typo in a #libs path fails here, not at run time).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^libs/contracts/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
