import { TablePermissionChecker } from '@warden/bus';
import { isAppError } from '@warden/errors';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import {
  aCallContext,
  aUser,
  CORRECT_PASSWORD,
  sessionServiceContext,
} from '../../../test/support/mothers.js';
import { aTestApp } from '../../../test/support/test-app.js';

/**
 * Attack: guessing TOTP codes with the password in hand. Every StartSession of an MFA user checks
 * the password first, and a right password cleared the email's lockout window, second-factor
 * failures included; so 4 guesses, a sign-in, 4 guesses, ... never locked the account and the
 * 6 digits fell to guessing (3 codes of 10^6 valid at any time). Second-factor failures are also
 * kept in a window of their own that only a right second factor clears.
 */
const STEP_MS = 30_000;
const codeAt = (secret: string, at: Date): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at.getTime() });

describe('VerifySecondFactor under guessing by someone who knows the password', () => {
  it('locks after max_failures wrong codes even when right passwords come in between', async () => {
    const user = aUser();
    const asUser = aCallContext({ user: { userId: user.id, sessionId: 's-user' } });
    const app = aTestApp({
      authorizer: new TablePermissionChecker({ [user.id]: ['user.manage_mfa:own'] }),
    });
    await app.given(user);
    const { secret } = await app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser);
    await app.bus.run(
      app.useCases.confirmTotp,
      { userId: user.id, code: codeAt(secret, app.clock.now()) },
      asUser,
    );
    app.clock.advance(STEP_MS);
    const signIn = () =>
      app.bus.run(
        app.useCases.verifyCredentials,
        { email: user.email, password: CORRECT_PASSWORD },
        sessionServiceContext(),
      );
    const verify = (code: string) =>
      app.bus.run(
        app.useCases.verifySecondFactor,
        { userId: user.id, factor: { kind: 'TOTP', code } },
        sessionServiceContext(),
      );
    // Three rounds of: the right password (StartSession), then four wrong codes (CompleteMfa).
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      await signIn().catch(() => outcomes.push('sign-in refused'));
      for (let i = 0; i < 4; i++)
        outcomes.push(
          await verify(String(100000 + round * 4 + i)).then(
            () => 'accepted',
            (e: unknown) => (isAppError(e) ? e.reason : String(e)),
          ),
        );
    }
    // Five wrong codes reached the check; every guess after them is refused as locked.
    expect(outcomes.filter((o) => o === 'INVALID_SECOND_FACTOR')).toHaveLength(5);
    expect(outcomes.slice(5).every((o) => o === 'ACCOUNT_LOCKED')).toBe(true);
    expect(outcomes).not.toContain('accepted');
    // The right code is refused too until the window ends, then it works and clears the count.
    app.clock.advance(STEP_MS);
    await expectAppError(
      verify(codeAt(secret, app.clock.now())),
      'RESOURCE_EXHAUSTED',
      'ACCOUNT_LOCKED',
    );
    app.clock.advance(15 * 60_000);
    await expect(verify(codeAt(secret, app.clock.now()))).resolves.toMatchObject({ kind: 'TOTP' });
    app.clock.advance(STEP_MS);
    for (let i = 0; i < 4; i++)
      await expectAppError(verify('000000'), 'UNAUTHENTICATED', 'INVALID_SECOND_FACTOR');
  });
});
