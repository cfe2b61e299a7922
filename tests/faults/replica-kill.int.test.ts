import { TEST_DATABASE_URL } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack, type StackRole, type StackService } from '../support/stack.js';
import { effectsOf, replayed, startLoad } from './load.js';

// Two replicas of every server and worker behind round_robin clients; under registration and
// sign-in load each one in turn is SIGKILLed (no shutdown step runs, as when its node dies), the
// survivors carry the load, then it starts again. Callers may see a retryable failure at worst, a
// retry with the same request_id answers what the lost call did, and nothing is lost or doubled.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ replicas: 2 });
}, 420_000);

afterAll(() => stack?.stop());

const FAULTS: Array<[StackService, StackRole, number]> = [
  ['user', 'server', 0],
  ['user', 'worker', 1],
  ['session', 'server', 1],
  ['session', 'worker', 0],
  ['authz', 'server', 0],
  ['authz', 'worker', 1],
];

describe('SIGKILL of one replica of two, under registration and sign-in load', () => {
  it('callers see UNAVAILABLE/ABORTED at worst, retries answer the same, nothing lost or doubled', async () => {
    const since = new Date();
    const load = startLoad(stack, { concurrency: 2, minUsers: 40 });
    const killed: string[] = [];
    const faults = await (async () => {
      await load.progress(5, 'the first users');
      for (const [service, role, index] of FAULTS) {
        await stack.kill(service, role, index);
        killed.push(`${service} ${role} ${index}`);
        // The other replica carries the load while this one is down.
        await load.progress(5, `users while ${service} ${role} ${index} was down`);
        await stack.restart(service, role, index);
        await load.progress(3, `users after ${service} ${role} ${index} came back`);
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    const report = await load.finish();
    if (faults) throw faults;
    expect(killed).toHaveLength(FAULTS.length);
    expect(report.violations).toEqual([]);
    expect(report.mismatches).toEqual([]);
    // Every request_id answers what it first did, on whichever replica, after every fault.
    expect(await replayed(stack, report)).toEqual([]);
    for (const label of report.failures.keys())
      expect(label).toMatch(/^(UNAVAILABLE|ABORTED|DEADLINE_EXCEEDED)\//);

    const effects = await effectsOf(stack, TEST_DATABASE_URL, report, since);
    expect(effects).toEqual({
      registeredEvents: [],
      defaultRoles: [],
      phantomUsers: [],
      sessions: [],
    });
    process.stderr.write(
      `replica kills: ${report.outcomes.length} users, failed attempts: ${JSON.stringify(Object.fromEntries(report.failures))}\n`,
    );
  }, 480_000);
});
