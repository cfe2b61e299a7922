import { TablePermissionChecker } from '@warden/bus';
import { isAppError } from '@warden/errors';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aCallContext, aUser, sessionServiceContext } from '../../../test/support/mothers.js';
import { aTestApp } from '../../../test/support/test-app.js';

/**
 * Attack: a stolen session removes the victim's second factor by guessing the code RemoveTotp
 * asks for. "A stolen session alone cannot" held only if the code cannot be guessed: RemoveTotp
 * counted no attempts, so 6 digits (3 valid at a time) fell to ~330k calls. Codes presented to
 * RemoveTotp now take slots of the user's second-factor lockout window, as at sign-in.
 */
const STEP_MS = 30_000;
const codeAt = (secret: string, at: Date): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at.getTime() });

describe('RemoveTotp under guessing with a stolen session', () => {
  it('locks after max_failures wrong codes: the right one is refused too, MFA stays on', async () => {
    const user = aUser();
    const asUser = aCallContext({ user: { userId: user.id, sessionId: 's-stolen' } });
    const app = aTestApp({
      authorizer: new TablePermissionChecker({
        [user.id]: ['user.manage_mfa:own', 'user.remove_mfa:own'],
      }),
    });
    await app.given(user);
    const { secret } = await app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser);
    await app.bus.run(
      app.useCases.confirmTotp,
      { userId: user.id, code: codeAt(secret, app.clock.now()) },
      asUser,
    );
    app.clock.advance(STEP_MS);
    const remove = (code: string) =>
      app.bus.run(app.useCases.removeTotp, { userId: user.id, code }, asUser).then(
        () => 'removed',
        (e: unknown) => (isAppError(e) ? e.reason : String(e)),
      );
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await remove(String(200000 + i)));
    expect(outcomes).toEqual([
      ...Array(5).fill('INVALID_CODE'),
      ...Array(3).fill('ACCOUNT_LOCKED'),
    ]);
    expect(await remove(codeAt(secret, app.clock.now()))).toBe('ACCOUNT_LOCKED');
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(true);
    // The same window guards sign-in's second factor.
    await expectAppError(
      app.bus.run(
        app.useCases.verifySecondFactor,
        { userId: user.id, factor: { kind: 'TOTP', code: codeAt(secret, app.clock.now()) } },
        sessionServiceContext(),
      ),
      'RESOURCE_EXHAUSTED',
      'ACCOUNT_LOCKED',
    );
    // Once the window has passed, the right code removes the factor.
    app.clock.advance(15 * 60_000);
    expect(await remove(codeAt(secret, app.clock.now()))).toBe('removed');
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
  });
});
