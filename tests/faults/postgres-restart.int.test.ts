import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { effectsOf, replayed, startLoad } from './load.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

// Postgres crashes (every backend killed at once) and comes back under registration and sign-in
// load. The machine's shared Postgres is never touched: the stack runs on a private one.
let postgres: PrivatePostgres;
let stack: Stack;

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  stack = await startStack({ databaseUrl: postgres.url });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  postgres?.destroy();
});

describe('a Postgres restart under registration and sign-in load', () => {
  it('callers see UNAVAILABLE/ABORTED at worst, retries answer the same, nothing lost or doubled', async () => {
    const since = new Date();
    const load = startLoad(stack, { concurrency: 4, minUsers: 30 });
    const faults = await (async () => {
      await load.progress(5, 'the first users');
      const failedBefore = load.failed();
      postgres.crash();
      // Callers notice: some attempts fail while it is down.
      await waitFor(() => load.failed() >= failedBefore + 3, {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: 'calls failing while Postgres is down',
      });
      postgres.start();
      await load.progress(10, 'users after Postgres came back');
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    const report = await load.finish();
    if (faults) throw faults;
    expect(report.violations).toEqual([]);
    expect(report.mismatches).toEqual([]);
    // Every request_id answers what it first did, on whichever replica, after every fault.
    expect(await replayed(stack, report)).toEqual([]);
    expect(report.failures.size).toBeGreaterThan(0);
    for (const label of report.failures.keys())
      expect(label).toMatch(/^(UNAVAILABLE|ABORTED|DEADLINE_EXCEEDED)\//);

    const effects = await effectsOf(stack, postgres.url, report, since);
    expect(effects).toEqual({
      registeredEvents: [],
      defaultRoles: [],
      phantomUsers: [],
      sessions: [],
    });
    process.stderr.write(
      `postgres restart: ${report.outcomes.length} users, failed attempts: ${JSON.stringify(Object.fromEntries(report.failures))}\n`,
    );
  }, 240_000);
});
