import { randomUUID } from 'node:crypto';
import { isAppError, type AppError } from '@warden/errors';
import type { sessionv1, userv1 } from '@warden/proto';
import { TEST_DATABASE_URL } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';
import { userServiceMetrics, type UserServiceMetrics } from '../support/user-metrics.js';

/**
 * Review finding 1: a request_id replay was a password oracle. The record was found by request_id
 * alone and its fingerprint held the password, so resending a victim's request id with guesses
 * answered IDEMPOTENCY_KEY_REUSED for a wrong one and the victim's live token (StartSession) or
 * registration (RegisterUser) for the right one: no argon2, no lockout, for 24 h. Another user
 * could also claim someone's request id first and block them. Now a replay costs what a sign-in
 * costs (a lockout slot, then argon2) before any record answers, and a request id is the caller's
 * own. argon2 work is counted by user-service's metric of verifications.
 */
const MAX_FAILURES = 5;
const CLIENT = { ipAddress: '198.51.100.77', userAgent: 'replay-oracle' };

let stack: Stack;
let metrics: UserServiceMetrics;
let db: pg.Client;

beforeAll(async () => {
  metrics = await userServiceMetrics();
  stack = await startStack({
    env: {
      user: {
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

const startSession = (email: string, password: string, requestId: string) =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    { email, password, client: CLIENT, requestId },
  );

const registerUser = (email: string, password: string, requestId: string, displayName = 'Vic') =>
  call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(stack.users, 'registerUser', {
    email,
    password,
    displayName,
    requestId,
  });

const refusal = (promise: Promise<unknown>): Promise<AppError> =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => {
      if (!isAppError(error)) throw error;
      return error;
    },
  );

/** What a caller can compare between two refusals. */
const shape = (error: AppError) => [error.kind, error.reason, error.message];

async function sessionsOf(userId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM "${stack.prefix}_session".sessions WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return rows.map((row) => row.id);
}

const anEmail = (what: string) => `${what}-${randomUUID()}@example.com`;

describe('finding 1: a StartSession request_id replay', () => {
  it('is refused like a fresh wrong password, counts toward the lockout, and gives no token once locked', async () => {
    const email = anEmail('victim');
    const victim = (await registerUser(email, PASSWORD, randomUUID())).user!;
    const requestId = randomUUID();
    const original = await startSession(email, PASSWORD, requestId);

    // A fresh wrong password, for comparison, is the first failure.
    const fresh = await refusal(startSession(email, 'a fresh wrong guess', randomUUID()));
    expect(shape(fresh)).toEqual(['UNAUTHENTICATED', 'INVALID_CREDENTIALS', expect.any(String)]);
    const before = await metrics.argon2Checks();
    for (let i = 1; i < MAX_FAILURES; i++) {
      const guess = await refusal(startSession(email, `replayed guess ${i}`, requestId));
      expect(shape(guess)).toEqual(shape(fresh));
    }
    // Every replayed guess cost an argon2 check, as a sign-in does.
    expect((await metrics.argon2Checks()) - before).toBe(MAX_FAILURES - 1);

    const locked = await refusal(startSession(email, PASSWORD, requestId));
    expect([locked.kind, locked.reason]).toEqual(['RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED']);
    expect(JSON.stringify(locked)).not.toContain(original.token);
    expect((await metrics.argon2Checks()) - before).toBe(MAX_FAILURES - 1);
    expect(await sessionsOf(victim.id)).toEqual([original.session!.id]);
  });

  it("keeps a request_id per user: another user's reuse neither reads nor blocks the first user's", async () => {
    const [aliceEmail, bobEmail] = [anEmail('alice'), anEmail('bob')];
    const alice = (await registerUser(aliceEmail, PASSWORD, randomUUID())).user!;
    const bob = (await registerUser(bobEmail, PASSWORD, randomUUID())).user!;

    // Bob claims the request id first: Alice is not blocked by it.
    const requestId = randomUUID();
    const bobs = await startSession(bobEmail, PASSWORD, requestId);
    const alices = await startSession(aliceEmail, PASSWORD, requestId);
    expect(bobs.session!.userId).toBe(bob.id);
    expect(alices.session!.userId).toBe(alice.id);
    expect(alices.token).not.toBe(bobs.token);

    // Each replay returns its own user's session, never the other's.
    expect((await startSession(aliceEmail, PASSWORD, requestId)).token).toBe(alices.token);
    expect((await startSession(bobEmail, PASSWORD, requestId)).token).toBe(bobs.token);
    expect(await sessionsOf(alice.id)).toEqual([alices.session!.id]);
    expect(await sessionsOf(bob.id)).toEqual([bobs.session!.id]);
  });

  it('still gives an honest retry the same session and token, and starts no second session', async () => {
    const email = anEmail('honest');
    const user = (await registerUser(email, PASSWORD, randomUUID())).user!;
    const requestId = randomUUID();
    const first = await startSession(email, PASSWORD, requestId);
    const retry = await startSession(email, PASSWORD, requestId);
    expect(retry.session!.id).toBe(first.session!.id);
    expect(retry.token).toBe(first.token);
    expect(await sessionsOf(user.id)).toEqual([first.session!.id]);
    // The same request id for a different request of the same user is still refused.
    const reused = await refusal(
      call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
        stack.sessions,
        'startSession',
        { email, password: PASSWORD, client: { ...CLIENT, userAgent: 'other' }, requestId },
      ),
    );
    expect([reused.kind, reused.reason]).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
  });
});

describe('finding 1: a RegisterUser request_id replay', () => {
  it('costs an argon2 check per guess and is locked out like sign-ins', async () => {
    const email = anEmail('registered');
    const requestId = randomUUID();
    const original = (await registerUser(email, PASSWORD, requestId)).user!;

    const before = await metrics.argon2Checks();
    for (let i = 0; i < MAX_FAILURES; i++) {
      const guess = await refusal(registerUser(email, `replayed guess ${i}`, requestId));
      expect([guess.kind, guess.reason]).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
      expect(JSON.stringify(guess)).not.toContain(original.id);
    }
    expect((await metrics.argon2Checks()) - before).toBe(MAX_FAILURES);

    // Locked: the right password neither gets the stored response nor runs argon2 ...
    const locked = await refusal(registerUser(email, PASSWORD, requestId));
    expect([locked.kind, locked.reason]).toEqual(['RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED']);
    // ... and the guesses count for sign-in too: one lockout per email.
    const signIn = await refusal(startSession(email, PASSWORD, randomUUID()));
    expect([signIn.kind, signIn.reason]).toEqual(['RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED']);
    expect((await metrics.argon2Checks()) - before).toBe(MAX_FAILURES);
  });

  it("keeps a request_id per email: another registration's reuse neither reads nor blocks it", async () => {
    const requestId = randomUUID();
    const [first, second] = [anEmail('first'), anEmail('second')];
    const claimedFirst = (await registerUser(second, PASSWORD, requestId, 'Second')).user!;
    const registered = (await registerUser(first, PASSWORD, requestId, 'First')).user!;
    expect(registered.email).toBe(first);
    expect(registered.id).not.toBe(claimedFirst.id);
    expect((await registerUser(first, PASSWORD, requestId, 'First')).user).toEqual(registered);
    expect((await registerUser(second, PASSWORD, requestId, 'Second')).user).toEqual(claimedFirst);
  });

  it('still gives an honest retry the same user, after proving the password once', async () => {
    const email = anEmail('retry');
    const requestId = randomUUID();
    const first = (await registerUser(email, PASSWORD, requestId)).user!;
    const before = await metrics.argon2Checks();
    const retry = (await registerUser(email, PASSWORD, requestId)).user!;
    expect(retry).toEqual(first);
    expect((await metrics.argon2Checks()) - before).toBe(1);
  });
});
