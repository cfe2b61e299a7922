/**
 * Layering, checked on every test run:
 * - domain imports nothing outside itself but @warden/errors and its service's errors.ts;
 * - application imports its domain, @warden/bus and @warden/errors, nothing else;
 * - an adapter never imports another adapter (they share src/mapping.ts);
 * - a service never imports another service: they meet only through @warden/proto clients;
 * - libs never import services.
 */
const FRAMEWORKS =
  '^(node_modules/|libs/(proto|grpc|events|db|logger|config|testing|authz-client|session-client)/)';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        "Domain code imports only its own domain, its service's errors.ts and @warden/errors.",
      from: { path: '^services/[^/]+/src/domain/' },
      to: {
        pathNot: [
          '^services/([^/]+)/src/domain/',
          '^services/[^/]+/src/errors\\.ts$',
          '^libs/errors/',
          '^node_modules/@types/',
        ],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'domain-no-node-builtins-io',
      severity: 'error',
      comment: 'Domain code does no I/O.',
      from: { path: '^services/[^/]+/src/domain/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|net|http|http2|child_process|dgram|tls|node:fs|node:net)$',
      },
    },
    {
      name: 'application-uses-ports-not-adapters',
      severity: 'error',
      comment:
        'Use cases see the domain, the bus and errors; adapters and frameworks stay outside.',
      from: { path: '^services/[^/]+/src/application/' },
      to: { path: [FRAMEWORKS, '^services/[^/]+/src/adapters/'] },
    },
    {
      name: 'no-adapter-to-adapter',
      severity: 'error',
      comment:
        'An adapter sees the application and the shared mapping, never another adapter; entry points (main, worker, adapters/cli) wire them.',
      from: {
        path: '^services/[^/]+/src/adapters/([^/]+)/',
        pathNot: '^services/[^/]+/src/adapters/cli/',
      },
      to: { path: '^services/[^/]+/src/adapters/', pathNot: '^services/[^/]+/src/adapters/$1/' },
    },
    {
      name: 'no-cross-service-imports',
      severity: 'error',
      comment: "Services talk gRPC and NATS, never through each other's code.",
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'libs-do-not-import-services',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^services/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(services|libs)/', pathNot: 'generated|/gen/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['/generated/', 'libs/proto/src/gen/', '\\.test\\.ts$', '/test/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
    combinedDependencies: false,
    preserveSymlinks: false,
  },
};
