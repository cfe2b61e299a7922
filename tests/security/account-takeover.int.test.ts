import { randomUUID } from 'node:crypto';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, codeOf, failure, PASSWORD, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attacks with a session or a sign-in answer that outlived what it should grant, over the real
 * processes (privileged sessions last 6 s here instead of 15 min):
 * - a stolen (or forgotten, still open) AAL1 session used to enrol the thief's TOTP, locking the
 *   owner out of their account, or to swap the password;
 * - a session of a user who has since turned MFA on, used to change the password at AAL1;
 * - a StartSession request_id replayed after the user enrolled MFA, to get the password-only
 *   (AAL1) token the first sign-in made;
 * - registering the email listed in `authz.bootstrap_admins` before its owner does, to be admin
 *   (here with `authz.bootstrap_requires_verified_email` on, as in production).
 */
const PRIVILEGED_MAX_AGE_S = 6;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      user: { WARDEN_AUTH_PRIVILEGED_SESSION_MAX_AGE: `${PRIVILEGED_MAX_AGE_S}s` },
      authz: { WARDEN_AUTHZ_BOOTSTRAP_REQUIRES_VERIFIED_EMAIL: 'true' },
    },
  });
}, 240_000);

afterAll(() => stack?.stop(), 60_000);

/** A registered player (the default role has arrived) and the email they sign in with. */
async function aPlayer(name: string) {
  const email = `${name}-${randomUUID()}@example.com`;
  const user = await register(stack, email);
  const mine: authzv1.Resource = { type: 'user', id: user.id, ownerId: user.id };
  await waitFor(async () => (await check(stack, user.id, 'user.manage_mfa', mine)).allowed, {
    timeoutMs: 15_000,
    what: 'the player role',
  });
  return { user, email };
}

const enrollTotp = (userId: string, token: string) =>
  call<userv1.EnrollTotpRequest, userv1.EnrollTotpResponse>(
    stack.users,
    'enrollTotp',
    { userId },
    token,
  );

const changePassword = (userId: string, token: string) =>
  call(
    stack.users,
    'changePassword',
    { userId, currentPassword: PASSWORD, newPassword: `a new one ${randomUUID()}` },
    token,
  );

const startSession = (email: string, requestId: string) =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    {
      email,
      password: PASSWORD,
      client: { ipAddress: '203.0.113.77', userAgent: 'session-thief' },
      requestId,
    },
  );

/**
 * Enrols and confirms TOTP from `token`'s session (a fresh one if none): MFA is on. The user's
 * other sessions end when session-service hears of it (mfa_enabled); the confirming one stays.
 */
async function turnMfaOn(userId: string, email: string, token?: string) {
  token ??= (await signIn(stack, email)).token;
  const { secret } = await enrollTotp(userId, token);
  await call(stack.users, 'confirmTotp', { userId, code: codeOf(secret) }, token);
}

describe('a stolen AAL1 session', () => {
  it('cannot enrol a TOTP factor or change the password once it is older than the limit', async () => {
    const { user, email } = await aPlayer('stolen');
    const { token } = await signIn(stack, email);
    // Fresh, the owner's own session may (a pending enrolment is harmless until confirmed).
    await expect(enrollTotp(user.id, token)).resolves.toMatchObject({ secret: expect.any(String) });

    // The thief holds the session after its owner signed in, left, forgot it.
    const refusal = await waitFor(
      async () => {
        const error = await failure(enrollTotp(user.id, token)).catch(() => undefined);
        return error?.reason === 'REAUTHENTICATION_REQUIRED' ? error : undefined;
      },
      {
        timeoutMs: (PRIVILEGED_MAX_AGE_S + 20) * 1000,
        intervalMs: 500,
        what: 'the session to age',
      },
    );
    expect(refusal.kind).toBe('PERMISSION_DENIED');
    expect(refusal.metadata).toMatchObject({ max_session_age_seconds: `${PRIVILEGED_MAX_AGE_S}` });
    const password = await failure(changePassword(user.id, token));
    expect([password.kind, password.reason]).toEqual([
      'PERMISSION_DENIED',
      'REAUTHENTICATION_REQUIRED',
    ]);
    // The session still works for everything else, and MFA stayed off.
    const own = await call<userv1.GetUserRequest, userv1.GetUserResponse>(
      stack.users,
      'getUser',
      { userId: user.id },
      token,
    );
    expect(own.user?.mfaEnabled).toBe(false);
  }, 60_000);

  it('of a user who turned MFA on later cannot change the password: STEP_UP_REQUIRED', async () => {
    const { user, email } = await aPlayer('pre-mfa');
    const { token } = await signIn(stack, email);
    const other = await signIn(stack, email);
    // The session that turns MFA on is the one AAL1 session that outlives it.
    await turnMfaOn(user.id, email, token);
    const refusal = await failure(changePassword(user.id, token));
    expect([refusal.kind, refusal.reason]).toEqual(['PERMISSION_DENIED', 'STEP_UP_REQUIRED']);
    // Any other AAL1 session is refused too: step-up while mfa_enabled is on its way, then ended.
    const answers: string[] = [];
    await waitFor(
      async () => {
        const answer = await changePassword(user.id, other.token).then(
          () => 'changed',
          (error: { kind?: string; reason?: string }) => `${error.kind}/${error.reason}`,
        );
        answers.push(answer);
        return answer !== 'PERMISSION_DENIED/STEP_UP_REQUIRED';
      },
      { timeoutMs: 10_000, intervalMs: 200, what: "the other session's end" },
    );
    expect(answers.at(-1)).toBe('UNAUTHENTICATED/SESSION_ENDED');
    expect(answers.slice(0, -1).every((a) => a === 'PERMISSION_DENIED/STEP_UP_REQUIRED')).toBe(
      true,
    );
  }, 60_000);
});

describe('a StartSession request_id replayed after MFA enrolment', () => {
  it('does not hand out the password-only token of the first sign-in: REPLAY_OUTDATED', async () => {
    const { user, email } = await aPlayer('replay');
    const requestId = randomUUID();
    const first = await startSession(email, requestId);
    expect(first.session?.assuranceLevel).toBe(sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1);
    expect((await startSession(email, requestId)).token).toBe(first.token);

    await turnMfaOn(user.id, email);
    const replay = await failure(startSession(email, requestId));
    expect([replay.kind, replay.reason]).toEqual(['FAILED_PRECONDITION', 'REPLAY_OUTDATED']);
    // A new sign-in asks for the second factor.
    const fresh = await startSession(email, randomUUID());
    expect(fresh.token).toBe('');
    expect(fresh.mfaChallenge?.id).toMatch(/^wmc_/);
  }, 60_000);
});

describe("registering a bootstrap admin's email first", () => {
  it('gives no admin until that email is verified; verified, the grant follows', async () => {
    const squatter = await register(stack, stack.adminEmail);
    const mine: authzv1.Resource = { type: 'user', id: squatter.id, ownerId: squatter.id };
    await waitFor(async () => (await check(stack, squatter.id, 'user.manage_mfa', mine)).allowed, {
      timeoutMs: 15_000,
      what: 'the player role',
    });
    const assignAdmin: authzv1.Resource = { type: 'role', id: 'admin', ownerId: '' };
    expect((await check(stack, squatter.id, 'role.assign', assignAdmin)).allowed).toBe(false);

    // Only the address's owner gets the code the notifier mails; proving it grants admin.
    const { code } = await call<
      userv1.RequestEmailVerificationRequest,
      userv1.RequestEmailVerificationResponse
    >(stack.users, 'requestEmailVerification', { userId: squatter.id });
    await call(stack.users, 'verifyEmail', { userId: squatter.id, code });
    await waitFor(
      async () => (await check(stack, squatter.id, 'role.assign', assignAdmin)).allowed,
      {
        timeoutMs: 15_000,
        what: 'the bootstrap admin grant at email_verified',
      },
    );
  }, 60_000);
});
