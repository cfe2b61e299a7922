import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import type { sessionv1 } from '@warden/proto';
import { TEST_DATABASE_URL } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register } from '../support/flows.js';
import { call, STANDARD_HASHING_ENV, startStack, type Stack } from '../support/stack.js';
import { userServiceMetrics, type UserServiceMetrics } from '../support/user-metrics.js';

/**
 * Review finding 5: nothing bounded argon2 work (12 ms CPU and 19 MiB a hash), so a flood of
 * sign-ins queued without limit on the thread pool. Over the real stack with production argon2id
 * and room for one check and no queue: a flood of StartSession calls gets sessions or
 * RESOURCE_EXHAUSTED PASSWORD_CHECKS_BUSY with a retry delay, never INTERNAL; a refused check
 * runs no argon2 and counts no lockout failure.
 */
const FLOOD = 40;
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
        WARDEN_PASSWORD_HASHING_MAX_CONCURRENT: '1',
        WARDEN_PASSWORD_HASHING_MAX_QUEUE: '0',
        WARDEN_LOCKOUT_MAX_FAILURES: '1000',
      },
    },
  });
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
}, 60_000);

/** Fires `FLOOD` StartSession calls at once; each settles to a session or its refusal. */
function flood(email: string, password: string): Promise<Outcome[]> {
  return Promise.all(
    Array.from({ length: FLOOD }, () =>
      call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
        stack.sessions,
        'startSession',
        { email, password, client: { ipAddress: '127.0.0.1', userAgent: 'flood' }, requestId: '' },
      ).then(
        (response): Outcome => ({ session: response.session!.id }),
        (error: AppError): Outcome => ({ refused: error }),
      ),
    ),
  );
}

type Outcome = { session: string } | { refused: AppError };
const busy = (outcome: Outcome): outcome is { refused: AppError } =>
  'refused' in outcome && outcome.refused.reason === 'PASSWORD_CHECKS_BUSY';

describe('a flood of sign-ins', () => {
  it('gets sessions or PASSWORD_CHECKS_BUSY with RetryInfo, never INTERNAL, and argon2 runs only for admitted ones', async () => {
    const email = `${randomUUID()}@example.com`;
    await register(stack, email);
    const before = await metrics.argon2Checks();
    const outcomes = await flood(email, PASSWORD);
    const signedIn = outcomes.filter((o) => 'session' in o);
    const refused = outcomes.filter(busy);
    expect(signedIn.length + refused.length).toBe(FLOOD);
    expect(signedIn.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const { refused: error } of refused) {
      expect(error.kind).toBe('RESOURCE_EXHAUSTED');
      expect(error.retryAfterMs).toBe(1_000);
    }
    expect((await metrics.argon2Checks()) - before).toBe(signedIn.length);
  });

  it('counts lockout failures only for the checks that ran', async () => {
    const email = `${randomUUID()}@example.com`;
    await register(stack, email);
    const outcomes = await flood(email, 'wrong password, many times');
    const ran = outcomes.filter(
      (o) => 'refused' in o && o.refused.reason === 'INVALID_CREDENTIALS',
    );
    expect(ran.length + outcomes.filter(busy).length).toBe(FLOOD);
    expect(outcomes.filter(busy).length).toBeGreaterThan(0);
    const { rows } = await db.query<{ failure_count: number }>(
      `SELECT failure_count FROM "${stack.prefix}_user".login_failures WHERE email = $1`,
      [email],
    );
    expect(rows).toEqual([{ failure_count: ran.length }]);
  });
});
