import { randomUUID } from 'node:crypto';
import { isAppError } from '@warden/errors';
import type { sessionv1 } from '@warden/proto';
import { TEST_DATABASE_URL } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register } from '../support/flows.js';
import { call, startStack, STANDARD_HASHING_ENV, type Stack } from '../support/stack.js';
import { userServiceMetrics, type UserServiceMetrics } from '../support/user-metrics.js';

/**
 * Attack 3: 50 concurrent StartSession guesses at one account, the right password late among
 * them. The lockout must hold under the race: at most max_failures guesses reach argon2 (counted
 * by user-service's own metric of argon2 verifications), the rest are ACCOUNT_LOCKED, and no
 * session is issued. The standard argon2id cost keeps the guesses in flight together.
 */
const MAX_FAILURES = 5;
const GUESSES = 50;
const RIGHT_AT = 44;

let stack: Stack;
let metrics: UserServiceMetrics;
let db: pg.Client;

beforeAll(async () => {
  metrics = await userServiceMetrics();
  stack = await startStack({
    env: {
      user: {
        ...STANDARD_HASHING_ENV,
        ...metrics.env,
        WARDEN_LOCKOUT_MAX_FAILURES: String(MAX_FAILURES),
        WARDEN_LOCKOUT_WINDOW: '15m',
      },
    },
  });
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

type Outcome = { kind: 'session'; sessionId: string } | { kind: 'refused'; reason: string };

const startSession = (email: string, password: string): Promise<Outcome> =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    {
      email,
      password,
      client: { ipAddress: '203.0.113.7', userAgent: 'lockout-race' },
      requestId: randomUUID(),
    },
  ).then(
    (response): Outcome => ({ kind: 'session', sessionId: response.session!.id }),
    (error: unknown): Outcome => ({
      kind: 'refused',
      reason: isAppError(error) ? error.reason : String(error),
    }),
  );

/** The guesses all at once, the right password (when given) at RIGHT_AT. */
const race = (email: string, rightPassword?: string): Promise<Outcome[]> =>
  Promise.all(
    Array.from({ length: GUESSES }, (_, i) =>
      startSession(email, i === RIGHT_AT && rightPassword ? rightPassword : `wrong guess ${i}`),
    ),
  );

const reasons = (outcomes: Outcome[]) =>
  outcomes.map((o) => (o.kind === 'session' ? 'SESSION' : o.reason));

const count = (items: string[], value: string) => items.filter((i) => i === value).length;

describe('attack 3: racing the lockout', () => {
  it('lets at most max_failures of 50 concurrent guesses reach argon2, and issues no session', async () => {
    const email = `victim-${randomUUID()}@example.com`;
    const victim = await register(stack, email);
    const before = await metrics.argon2Checks();

    const outcomes = reasons(await race(email, PASSWORD));

    const checks = (await metrics.argon2Checks()) - before;
    expect(checks).toBe(MAX_FAILURES);
    expect(count(outcomes, 'SESSION')).toBe(0);
    expect(outcomes[RIGHT_AT]).toBe('ACCOUNT_LOCKED');
    // Every guess that reached argon2 failed it; every other one was refused before it.
    expect(count(outcomes, 'INVALID_CREDENTIALS')).toBe(checks);
    expect(count(outcomes, 'ACCOUNT_LOCKED')).toBe(GUESSES - checks);

    // The lock holds afterwards, for the right password too, without another argon2 run.
    expect(reasons([await startSession(email, PASSWORD)])).toEqual(['ACCOUNT_LOCKED']);
    expect((await metrics.argon2Checks()) - before).toBe(checks);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${stack.prefix}_session".sessions WHERE user_id = $1`,
      [victim.id],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('locks an unknown email after the same number of argon2 checks, so the lock reveals nothing', async () => {
    const before = await metrics.argon2Checks();

    const outcomes = reasons(await race(`nobody-${randomUUID()}@example.com`));

    const checks = (await metrics.argon2Checks()) - before;
    expect(checks).toBe(MAX_FAILURES);
    expect(count(outcomes, 'INVALID_CREDENTIALS')).toBe(checks);
    expect(count(outcomes, 'ACCOUNT_LOCKED')).toBe(GUESSES - checks);
  });
});
