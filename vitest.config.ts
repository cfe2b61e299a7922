import { defineConfig } from 'vitest/config';

// One run for the whole repo: unit, component and integration tests share a runner so the
// closing summary counts every suite. Integration files isolate themselves (own schema, own streams).
export default defineConfig({
  test: {
    include: ['libs/**/*.test.ts', 'services/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3, // integration files mostly wait on the processes they start: a third file overlaps that wait
    globalSetup: ['libs/testing/src/global-setup.ts'],
  },
});
