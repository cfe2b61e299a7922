import { TablePermissionChecker } from '@warden/bus';
import { isAppError } from '@warden/errors';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  aCallContext,
  aUser,
  CORRECT_PASSWORD,
  sessionServiceContext,
} from '../../../test/support/mothers.js';
import { aTestApp } from '../../../test/support/test-app.js';

/**
 * Attacks on the 6 digits of a TOTP code (3 of 10^6 valid at any time), which only a lockout
 * keeps from being guessed:
 * - with the password: each StartSession's right password cleared the email's lockout window,
 *   second-factor failures included, so 4 guesses, a sign-in, 4 guesses, ... never locked;
 * - with a stolen session: RemoveTotp asks the user for a code but counted no attempts.
 * Both now take slots of a second-factor window that only a right second factor clears.
 */
const STEP_MS = 30_000;
const WINDOW_MS = 15 * 60_000;
const codeAt = (secret: string, at: Date): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at.getTime() });
const reasonOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'accepted',
    (e: unknown) => (isAppError(e) ? e.reason : String(e)),
  );

/** A user with TOTP confirmed, their (stolen) session, and the calls an attacker makes. */
async function confirmedUser() {
  const user = aUser();
  const app = aTestApp({
    authorizer: new TablePermissionChecker({
      [user.id]: ['user.manage_mfa:own', 'user.remove_mfa:own'],
    }),
  });
  const asUser = aCallContext({
    user: { userId: user.id, sessionId: 's-stolen', authenticatedAt: app.clock.now() },
  });
  await app.given(user);
  const { secret } = await app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser);
  await app.bus.run(
    app.useCases.confirmTotp,
    { userId: user.id, code: codeAt(secret, app.clock.now()) },
    asUser,
  );
  app.clock.advance(STEP_MS);
  return {
    app,
    user,
    currentCode: () => codeAt(secret, app.clock.now()),
    signIn: () =>
      app.bus.run(
        app.useCases.verifyCredentials,
        { email: user.email, password: CORRECT_PASSWORD },
        sessionServiceContext(),
      ),
    verify: (code: string) =>
      reasonOf(
        app.bus.run(
          app.useCases.verifySecondFactor,
          { userId: user.id, factor: { kind: 'TOTP', code } },
          sessionServiceContext(),
        ),
      ),
    remove: (code: string) =>
      reasonOf(app.bus.run(app.useCases.removeTotp, { userId: user.id, code }, asUser)),
  };
}

describe('VerifySecondFactor under guessing by someone who knows the password', () => {
  it('locks after max_failures wrong codes even when right passwords come in between', async () => {
    const { app, currentCode, signIn, verify } = await confirmedUser();
    // Three rounds of: the right password (StartSession), then four wrong codes (CompleteMfa).
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      await signIn();
      for (let i = 0; i < 4; i++) outcomes.push(await verify(String(100000 + round * 4 + i)));
    }
    // Five wrong codes reached the check; every guess after them is refused as locked.
    expect(outcomes).toEqual([
      ...Array(5).fill('INVALID_SECOND_FACTOR'),
      ...Array(7).fill('ACCOUNT_LOCKED'),
    ]);
    // The right code is refused too until the window ends, then it works and clears the count.
    app.clock.advance(STEP_MS);
    expect(await verify(currentCode())).toBe('ACCOUNT_LOCKED');
    app.clock.advance(WINDOW_MS);
    expect(await verify(currentCode())).toBe('accepted');
    app.clock.advance(STEP_MS);
    for (let i = 0; i < 4; i++) expect(await verify('000000')).toBe('INVALID_SECOND_FACTOR');
  });
});

describe('RemoveTotp under guessing with a stolen session', () => {
  it('locks after max_failures wrong codes: the right one is refused too, MFA stays on', async () => {
    const { app, user, currentCode, verify, remove } = await confirmedUser();
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await remove(String(200000 + i)));
    expect(outcomes).toEqual([
      ...Array(5).fill('INVALID_CODE'),
      ...Array(3).fill('ACCOUNT_LOCKED'),
    ]);
    expect(await remove(currentCode())).toBe('ACCOUNT_LOCKED');
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(true);
    // The same window guards sign-in's second factor.
    expect(await verify(currentCode())).toBe('ACCOUNT_LOCKED');
    // Once the window has passed, the right code removes the factor.
    app.clock.advance(WINDOW_MS);
    expect(await remove(currentCode())).toBe('accepted');
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
  });
});
