import { createClient } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import { TEST_DATABASE_URL } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GATEWAY_KEY,
  startStack,
  type Stack,
  type StackRole,
  type StackService,
} from '../support/stack.js';
import {
  effectsOf,
  newOutcome,
  register,
  replayed,
  RETRYABLE,
  retrying,
  signIn,
  startLoad,
  type Outcome,
} from './load.js';

// Two replicas of every server and worker behind round_robin clients; under registration and
// sign-in load each one in turn is SIGKILLed (no shutdown step runs, as when its node dies), the
// survivors carry the load, then it starts again. Callers may see a retryable failure at worst, a
// retry with the same request_id answers what the lost call did, and nothing is lost or doubled.
let stack: Stack;
/** Every user the file's tests made, for the final check of effects. */
const everyone: Outcome[] = [];
const fileStart = new Date();

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
    everyone.push(...report.outcomes);
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

  it('answers the retry of calls in flight on a SIGKILLed replica with their one user each', async () => {
    // Straight to replica 1, so the calls are on the process that dies.
    const direct = {
      ...stack,
      users: createClient(userv1.UserServiceClient, {
        address: stack.replicaAddresses.user[1]!,
        serviceKey: GATEWAY_KEY,
      }),
    };
    const burst = Array.from({ length: 8 }, (_, i) => newOutcome(`inflight-${stack.prefix}-${i}`));
    const first = burst.map((o) =>
      register(direct, o).then(
        (response) => ({ userId: response.user!.id }),
        (error: { kind?: string }) => ({ kind: error.kind }),
      ),
    );
    await stack.kill('user', 'server', 1);
    const answers = await Promise.all(first);
    // A call the replica did not finish failed retryably, never INTERNAL.
    for (const answer of answers)
      if ('kind' in answer) expect(RETRYABLE.has(answer.kind ?? '')).toBe(true);
    // The same request_ids on the survivor: each ends with one user, the one already answered if any.
    for (const [i, o] of burst.entries()) {
      const { user } = await retrying(`retry ${o.email}`, () => register(stack, o));
      const answered = answers[i]!;
      if ('userId' in answered) expect(user!.id).toBe(answered.userId);
      o.userId = user!.id;
      o.sessionId = (await retrying(`sign in ${o.email}`, () => signIn(stack, o))).session!.id;
    }
    process.stderr.write(
      `in flight at the kill: ${JSON.stringify(answers.map((a) => ('kind' in a ? a.kind : 'answered')))}\n`,
    );
    await stack.restart('user', 'server', 1);
    everyone.push(...burst);
    const report = { outcomes: everyone, violations: [], failures: new Map(), mismatches: [] };
    expect(await replayed(stack, { ...report, outcomes: burst }, burst.length)).toEqual([]);
    expect(await effectsOf(stack, TEST_DATABASE_URL, report, fileStart)).toEqual({
      registeredEvents: [],
      defaultRoles: [],
      phantomUsers: [],
      sessions: [],
    });
  }, 300_000);
});
