import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// One run for the whole repo: unit, component and integration tests share a runner so the
// closing summary counts every suite. Integration files isolate themselves (own schema, own streams).
const ROOTS = ['libs', 'services', 'tests'];
const ALL = ROOTS.map((root) => `${root}/**/*.test.ts`);
const INTEGRATION = ROOTS.map((root) => `${root}/**/*.int.test.ts`);
// Unit and component files that need a module state of their own (uuidv7's clock and counter).
const FRESH_MODULES = ['libs/events/src/uuid.test.ts'];

// The longest files (a minute or two each, most of it waiting on processes) start first, so the
// run does not end on one of them alone: without a results cache (a clean checkout, CI) vitest
// orders by file size, and these came last (production-build started at 505 s of 517 s).
const LONGEST_FIRST = [
  'tests/faults/replica-kill.int.test.ts',
  'tests/deploy/production-build.int.test.ts',
  'tests/e2e/nats-cluster.int.test.ts',
  'tests/e2e/account-lifecycle.int.test.ts',
  'tests/e2e/account-journey.int.test.ts',
  'tests/security/bootstrap-admin-once.int.test.ts',
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((path) => file.moduleId.endsWith(path));
      return at === -1 ? LONGEST_FIRST.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    sequence: { sequencer: LongestFirst },
    maxWorkers: 3, // integration files mostly wait on the processes they start: a third file overlaps that wait
    projects: [
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          exclude: ['**/node_modules/**', '**/dist/**'],
          // Once per run, and only when an integration file runs: the test database, the run's
          // nats-server, the services' bundles.
          globalSetup: ['libs/testing/src/global-setup.ts'],
          // Each of the three workers runs its share of the ~80 files one after another, with the
          // modules it imported for the first (vitest, grpc-js, pg, the generated protos, the
          // stack): a fresh process per file cost 2.9 s of CPU each, 140 s of the suite. A file
          // closes what it opens (pools, clients, servers, stacks: afterAll) and restores what it
          // changes (timers), as the unit files do.
          isolate: false,
        },
      },
      {
        // Files that need a module state of their own, each in a fresh process.
        extends: true,
        test: { name: 'fresh', include: FRESH_MODULES },
      },
      {
        // In-memory unit and component files run one after another in a few long-lived workers
        // instead of a fresh process each: importing vitest, grpc-js and the generated protos
        // again for each of ~120 small files cost more CPU than their tests (100 s against 40 s).
        // A file here must not depend on another file's absence (module state, globals, env):
        // restore what it changes (vi.useRealTimers, vi.unstubAllEnvs), or list it in FRESH_MODULES.
        extends: true,
        test: {
          name: 'unit',
          include: ALL,
          exclude: ['**/node_modules/**', '**/dist/**', ...INTEGRATION, ...FRESH_MODULES],
          isolate: false,
        },
      },
    ],
  },
});
