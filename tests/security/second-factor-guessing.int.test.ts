import { randomUUID } from 'node:crypto';
import { isAppError } from '@warden/errors';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, PASSWORD, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attack: the password is known (phished, reused), the TOTP code is not. StartSession answers a
 * challenge with 5 attempts; each StartSession's right password cleared the email's lockout
 * window, second-factor failures included, so "sign in, 4 guesses, sign in, 4 guesses, ..." was
 * never locked and the 6 digits fell to guessing (3 of 10^6 codes valid at a time). Over the real
 * processes: however the guesses are spread over challenges, 5 wrong codes lock the second factor
 * (max_failures 5 in 15 min) and the right code is refused until the window ends.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

const codeNow = (secret: string): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() });

const startSession = (email: string) =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    {
      email,
      password: PASSWORD,
      client: { ipAddress: '203.0.113.9', userAgent: 'totp-guesser' },
      requestId: randomUUID(),
    },
  );

const completeMfa = (challengeId: string, totpCode: string) =>
  call<sessionv1.CompleteMfaRequest, sessionv1.CompleteMfaResponse>(stack.sessions, 'completeMfa', {
    challengeId,
    totpCode,
    requestId: randomUUID(),
  }).then(
    (done) => (done.token ? 'session' : 'no session'),
    (e: unknown) => (isAppError(e) ? `${e.kind} ${e.reason}` : String(e)),
  );

describe('guessing TOTP codes with the password, a new challenge every 4 guesses', () => {
  it('locks the second factor after 5 wrong codes; the right code gets no session', async () => {
    const email = `totp-guess-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const mine: authzv1.Resource = { type: 'user', id: user.id, ownerId: user.id };
    await waitFor(async () => (await check(stack, user.id, 'user.manage_mfa', mine)).allowed, {
      timeoutMs: 15_000,
      what: 'the player role',
    });
    const { token } = await signIn(stack, email);
    const { secret } = await call<userv1.EnrollTotpRequest, userv1.EnrollTotpResponse>(
      stack.users,
      'enrollTotp',
      { userId: user.id },
      token,
    );
    await call(stack.users, 'confirmTotp', { userId: user.id, code: codeNow(secret) }, token);

    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      // The right password: StartSession still answers a challenge (the password is not locked).
      const { mfaChallenge } = await startSession(email);
      expect(mfaChallenge?.id).toMatch(/^wmc_/);
      for (let i = 0; i < 4; i++) {
        // Never the current code (a 6-digit guess that cannot be right by chance here).
        let guess = String(100000 + round * 4 + i);
        if (guess === codeNow(secret)) guess = String(900000 + i);
        outcomes.push(await completeMfa(mfaChallenge!.id, guess));
      }
    }
    const wrong = 'UNAUTHENTICATED INVALID_SECOND_FACTOR';
    const locked = 'RESOURCE_EXHAUSTED ACCOUNT_LOCKED';
    expect(outcomes).toEqual([...Array(5).fill(wrong), ...Array(7).fill(locked)]);

    const { mfaChallenge } = await startSession(email);
    expect(await completeMfa(mfaChallenge!.id, codeNow(secret))).toBe(locked);
  });
});
