import { TablePermissionChecker } from '@warden/bus';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aCallContext, aUser, sessionServiceContext } from '../../../test/support/mothers.js';
import { aTestApp, type TestApp } from '../../../test/support/test-app.js';
import type { User } from '../../domain/user.js';

const STEP_MS = 30_000;
const ADMIN = '0190c7a6-0000-7000-8000-00000000a0a0';

/** The code an authenticator app shows for `secret` at `at` (RFC 6238 through otpauth). */
const codeAt = (secret: string, at: Date): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at.getTime() });

/** A player (own grants, as the built-in role) and an admin; the player's user is `user`. */
async function setUp(): Promise<{
  app: TestApp;
  user: User;
  /** The user's own session, AAL1, started just now. */
  asUser: ReturnType<typeof aCallContext>;
  /** The user's own session completed with the second factor, started just now. */
  asUserAal2: ReturnType<typeof aCallContext>;
}> {
  const user = aUser();
  const authorizer = new TablePermissionChecker({
    'service:gateway': ['*'],
    [user.id]: ['user.manage_mfa:own', 'user.remove_mfa:own'],
    [ADMIN]: ['*'],
  });
  const app = aTestApp({ authorizer });
  await app.given(user);
  const signedIn = { userId: user.id, authenticatedAt: app.clock.now() };
  const asUser = aCallContext({ user: { ...signedIn, sessionId: 's-user' } });
  const asUserAal2 = aCallContext({
    user: { ...signedIn, sessionId: 's-user-2', assuranceLevel: 'AAL2' },
  });
  return { app, user, asUser, asUserAal2 };
}

async function enrolled() {
  const setup = await setUp();
  const { app, user, asUser } = setup;
  const { secret, otpauthUri } = await app.bus.run(
    app.useCases.enrollTotp,
    { userId: user.id },
    asUser,
  );
  return { ...setup, secret, otpauthUri };
}

/** Enrolled and confirmed: MFA on, the recovery codes in hand, the clock one step on. */
async function confirmed() {
  const setup = await enrolled();
  const { app, user, asUser, secret } = setup;
  const recoveryCodes = await app.bus.run(
    app.useCases.confirmTotp,
    { userId: user.id, code: codeAt(secret, app.clock.now()) },
    asUser,
  );
  app.clock.advance(STEP_MS);
  const verify = (factor: { kind: 'TOTP' | 'RECOVERY_CODE'; code: string }) =>
    app.bus.run(
      app.useCases.verifySecondFactor,
      { userId: user.id, factor },
      sessionServiceContext(),
    );
  return { ...setup, recoveryCodes, verify };
}

describe('EnrollTotp', () => {
  it('hands out a base32 secret and its otpauth:// URI, pending: MFA is not on yet', async () => {
    const { app, user, secret, otpauthUri } = await enrolled();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('warden-test');
    expect(decodeURIComponent(uri.pathname)).toContain(user.email);
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
    expect(app.totpFactors.factors.get(user.id)?.confirmed).toBe(false);
    expect(app.users.outbox).toEqual([]);
  });

  it('replaces a pending secret when called again', async () => {
    const { app, user, asUser, secret } = await enrolled();
    const again = await app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser);
    expect(again.secret).not.toBe(secret);
    expect(app.totpFactors.factors.get(user.id)?.secret).toBe(again.secret);
    // A code of the replaced secret no longer confirms.
    await expectAppError(
      app.bus.run(
        app.useCases.confirmTotp,
        { userId: user.id, code: codeAt(secret, app.clock.now()) },
        asUser,
      ),
      'INVALID_ARGUMENT',
      'INVALID_CODE',
    );
  });

  it('refuses to enrol twice once MFA is on', async () => {
    const { app, user, asUserAal2 } = await confirmed();
    await expectAppError(
      app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUserAal2),
      'FAILED_PRECONDITION',
      'MFA_ALREADY_ENABLED',
    );
  });

  it("refuses another user's enrolment (user.manage_mfa:own) and an unknown user", async () => {
    const { app, asUser } = await setUp();
    const other = aUser();
    await app.given(other);
    await expectAppError(
      app.bus.run(app.useCases.enrollTotp, { userId: other.id }, asUser),
      'PERMISSION_DENIED',
    );
    await expectAppError(
      app.bus.run(app.useCases.enrollTotp, { userId: aUser().id }, aCallContext()),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
  });
});

describe('ConfirmTotp', () => {
  it('turns MFA on with a current code, returns 10 recovery codes once, keeps only hashes', async () => {
    const { app, user, recoveryCodes } = await confirmed();
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){3}$/);
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(true);
    const factor = app.totpFactors.factors.get(user.id)!;
    expect(factor.confirmed).toBe(true);
    expect(factor.recoveryCodeHashes).toHaveLength(10);
    expect(JSON.stringify(factor.recoveryCodeHashes)).not.toContain(recoveryCodes[0]!.slice(0, 4));
    // session-service ends the user's AAL1 sessions but the one that confirmed it.
    expect(app.users.eventsOfType('mfa_enabled')).toEqual([
      {
        type: 'mfa_enabled',
        userId: user.id,
        exceptSessionId: 's-user',
        occurTime: expect.any(Date),
      },
    ]);
  });

  it('keeps no session when an administrator confirms for the user (their AAL1 sessions all end)', async () => {
    const { app, user, secret } = await enrolled();
    const asAdmin = aCallContext({
      user: { userId: ADMIN, sessionId: 's-admin', authenticatedAt: app.clock.now() },
    });
    await app.bus.run(
      app.useCases.confirmTotp,
      { userId: user.id, code: codeAt(secret, app.clock.now()) },
      asAdmin,
    );
    expect(app.users.eventsOfType('mfa_enabled')).toEqual([
      { type: 'mfa_enabled', userId: user.id, exceptSessionId: '', occurTime: expect.any(Date) },
    ]);
  });

  it('accepts the code of the step before (clock drift), refuses a wrong or stale one', async () => {
    const { app, user, asUser, secret } = await enrolled();
    const confirm = (code: string) =>
      app.bus.run(app.useCases.confirmTotp, { userId: user.id, code }, asUser);
    const twoStepsAgo = codeAt(secret, new Date(app.clock.now().getTime() - 2 * STEP_MS));
    const error = await expectAppError(confirm(twoStepsAgo), 'INVALID_ARGUMENT', 'INVALID_CODE');
    expect(error.violations.map((v) => v.field)).toEqual(['code']);
    await expectAppError(confirm('12ab56'), 'INVALID_ARGUMENT', 'INVALID_ARGUMENT');
    await confirm(codeAt(secret, new Date(app.clock.now().getTime() - STEP_MS)));
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(true);
  });

  it('needs an enrolment first, and refuses a second confirmation', async () => {
    const { app, user, asUser } = await setUp();
    await expectAppError(
      app.bus.run(app.useCases.confirmTotp, { userId: user.id, code: '123456' }, asUser),
      'FAILED_PRECONDITION',
      'TOTP_NOT_ENROLLED',
    );
    const on = await confirmed();
    await expectAppError(
      on.app.bus.run(
        on.app.useCases.confirmTotp,
        { userId: on.user.id, code: codeAt(on.secret, on.app.clock.now()) },
        on.asUserAal2,
      ),
      'FAILED_PRECONDITION',
      'MFA_ALREADY_ENABLED',
    );
  });
});

describe('VerifySecondFactor', () => {
  it('accepts a current TOTP code once: the same code again is a replay', async () => {
    const { app, secret, verify } = await confirmed();
    const code = codeAt(secret, app.clock.now());
    await expect(verify({ kind: 'TOTP', code })).resolves.toEqual({
      kind: 'TOTP',
      recoveryCodesLeft: 10,
    });
    await expectAppError(
      verify({ kind: 'TOTP', code }),
      'UNAUTHENTICATED',
      'INVALID_SECOND_FACTOR',
    );
    // Nor does the previous step's code pass once a later one was used.
    const previous = codeAt(secret, new Date(app.clock.now().getTime() - STEP_MS));
    await expectAppError(
      verify({ kind: 'TOTP', code: previous }),
      'UNAUTHENTICATED',
      'INVALID_SECOND_FACTOR',
    );
    app.clock.advance(STEP_MS);
    await verify({ kind: 'TOTP', code: codeAt(secret, app.clock.now()) });
  });

  it('refuses the code ConfirmTotp used (its step is spent)', async () => {
    const { app, secret, verify } = await confirmed();
    const confirmStep = new Date(app.clock.now().getTime() - STEP_MS);
    await expectAppError(
      verify({ kind: 'TOTP', code: codeAt(secret, confirmStep) }),
      'UNAUTHENTICATED',
      'INVALID_SECOND_FACTOR',
    );
  });

  it('spends a recovery code (case and dashes do not matter); it never works twice', async () => {
    const { recoveryCodes, verify } = await confirmed();
    const code = recoveryCodes[3]!;
    await expect(
      verify({ kind: 'RECOVERY_CODE', code: code.toUpperCase().replaceAll('-', ' ') }),
    ).resolves.toEqual({ kind: 'RECOVERY_CODE', recoveryCodesLeft: 9 });
    await expectAppError(
      verify({ kind: 'RECOVERY_CODE', code }),
      'UNAUTHENTICATED',
      'INVALID_SECOND_FACTOR',
    );
  });

  it('counts wrong codes toward the lockout, as passwords do; a right one clears it', async () => {
    const { app, user, secret, verify } = await confirmed();
    for (let i = 0; i < 4; i++)
      await expectAppError(
        verify({ kind: 'TOTP', code: '000000' }),
        'UNAUTHENTICATED',
        'INVALID_SECOND_FACTOR',
      );
    expect((await app.loginFailures.get(user.email))?.failureCount).toBe(4);
    await verify({ kind: 'TOTP', code: codeAt(secret, app.clock.now()) });
    expect(await app.loginFailures.get(user.email)).toBeUndefined();
    for (let i = 0; i < 5; i++)
      await expectAppError(verify({ kind: 'RECOVERY_CODE', code: 'nope' }), 'UNAUTHENTICATED');
    app.clock.advance(STEP_MS);
    // Locked: even the right code is refused, and counted as a lockout refusal.
    await expectAppError(
      verify({ kind: 'TOTP', code: codeAt(secret, app.clock.now()) }),
      'RESOURCE_EXHAUSTED',
      'ACCOUNT_LOCKED',
    );
    expect(app.lockouts.count).toBe(1);
  });

  it('refuses a disabled user even with the right code', async () => {
    const { app, user, secret, verify } = await confirmed();
    await app.users.update(user.id, (current) => ({
      user: { ...current, status: 'DISABLED' },
      events: [],
    }));
    await expectAppError(
      verify({ kind: 'TOTP', code: codeAt(secret, app.clock.now()) }),
      'PERMISSION_DENIED',
      'ACCOUNT_DISABLED',
    );
  });

  it('is for session-service only, and needs MFA on', async () => {
    const { app, user, secret, asUser } = await enrolled();
    await expectAppError(
      app.bus.run(
        app.useCases.verifySecondFactor,
        { userId: user.id, factor: { kind: 'TOTP', code: codeAt(secret, app.clock.now()) } },
        asUser,
      ),
      'PERMISSION_DENIED',
    );
    await expectAppError(
      app.bus.run(
        app.useCases.verifySecondFactor,
        { userId: user.id, factor: { kind: 'TOTP', code: codeAt(secret, app.clock.now()) } },
        sessionServiceContext(),
      ),
      'FAILED_PRECONDITION',
      'MFA_NOT_ENABLED',
    );
  });

  it('refuses malformed factors as INVALID_ARGUMENT naming the field', async () => {
    const { verify, app, user } = await confirmed();
    const none = await expectAppError(
      app.bus.run(
        app.useCases.verifySecondFactor,
        { userId: user.id, factor: undefined },
        sessionServiceContext(),
      ),
      'INVALID_ARGUMENT',
    );
    expect(none.violations.map((v) => v.field)).toEqual(['factor']);
    const short = await expectAppError(verify({ kind: 'TOTP', code: '123' }), 'INVALID_ARGUMENT');
    expect(short.violations.map((v) => v.field)).toEqual(['totp_code']);
    const long = await expectAppError(
      verify({ kind: 'RECOVERY_CODE', code: 'x'.repeat(65) }),
      'INVALID_ARGUMENT',
    );
    expect(long.violations.map((v) => v.field)).toEqual(['recovery_code']);
  });
});

describe('RemoveTotp', () => {
  it('needs a current code from the user removing their own', async () => {
    const { app, user, asUser } = await confirmed();
    const error = await expectAppError(
      app.bus.run(app.useCases.removeTotp, { userId: user.id, code: '' }, asUser),
      'INVALID_ARGUMENT',
      'INVALID_CODE',
    );
    expect(error.violations.map((v) => v.field)).toEqual(['code']);
    await expectAppError(
      app.bus.run(app.useCases.removeTotp, { userId: user.id, code: '000000' }, asUser),
      'INVALID_ARGUMENT',
      'INVALID_CODE',
    );
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(true);
  });

  it('turns MFA off with a current code: the secret and recovery codes go, mfa_disabled is emitted', async () => {
    const { app, user, asUser, secret } = await confirmed();
    await app.bus.run(
      app.useCases.removeTotp,
      { userId: user.id, code: codeAt(secret, app.clock.now()) },
      asUser,
    );
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
    expect(app.totpFactors.factors.has(user.id)).toBe(false);
    expect(app.users.eventsOfType('mfa_disabled').map((e) => e.userId)).toEqual([user.id]);
    // A new enrolment may start.
    await app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser);
  });

  it('takes a recovery code too (a lost phone)', async () => {
    const { app, user, asUser, recoveryCodes } = await confirmed();
    await app.bus.run(
      app.useCases.removeTotp,
      { userId: user.id, code: recoveryCodes[0]! },
      asUser,
    );
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
  });

  it('lets an administrator remove it without a code', async () => {
    const { app, user } = await confirmed();
    await app.bus.run(
      app.useCases.removeTotp,
      { userId: user.id, code: '' },
      aCallContext({ user: { userId: ADMIN, sessionId: 's-admin' } }),
    );
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
  });

  it('succeeds and says nothing when no factor is on (a pending one is dropped)', async () => {
    const { app, user } = await enrolled();
    await app.bus.run(app.useCases.removeTotp, { userId: user.id, code: '' }, aCallContext());
    expect(app.totpFactors.factors.has(user.id)).toBe(false);
    expect(app.users.eventsOfType('mfa_disabled')).toEqual([]);
  });

  it('asks an AAL1 session of a player for a step-up (user.remove_mfa:own@aal2)', async () => {
    const user = aUser();
    const app = aTestApp({
      authorizer: new TablePermissionChecker({ [user.id]: ['user.remove_mfa:own@aal2'] }),
    });
    await app.given(user);
    const at = (assuranceLevel: 'AAL1' | 'AAL2') =>
      aCallContext({ user: { userId: user.id, sessionId: 's', assuranceLevel } });
    await expectAppError(
      app.bus.run(app.useCases.removeTotp, { userId: user.id, code: '123456' }, at('AAL1')),
      'PERMISSION_DENIED',
      'STEP_UP_REQUIRED',
    );
    // At AAL2 the permission passes (no factor is on here: nothing to remove, no error).
    await app.bus.run(app.useCases.removeTotp, { userId: user.id, code: '123456' }, at('AAL2'));
  });
});

describe('EnrollTotp and ConfirmTotp need a privileged session (a stolen one cannot plant a factor)', () => {
  const MAX_AGE_MS = 15 * 60_000;

  it('refuses a session started more than 15 min ago: REAUTHENTICATION_REQUIRED, nothing stored', async () => {
    const { app, user, asUser } = await setUp();
    app.clock.advance(MAX_AGE_MS + 1);
    await expectAppError(
      app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser),
      'PERMISSION_DENIED',
      'REAUTHENTICATION_REQUIRED',
    );
    expect(app.totpFactors.factors.has(user.id)).toBe(false);
  });

  it('accepts a session exactly at the limit', async () => {
    const { app, user, asUser } = await setUp();
    app.clock.advance(MAX_AGE_MS);
    await expect(
      app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser),
    ).resolves.toMatchObject({ secret: expect.any(String) });
  });

  it('refuses to confirm from a session that aged meanwhile, even with the right code', async () => {
    const { app, user, asUser, secret } = await enrolled();
    app.clock.advance(MAX_AGE_MS + 1);
    await expectAppError(
      app.bus.run(
        app.useCases.confirmTotp,
        { userId: user.id, code: codeAt(secret, app.clock.now()) },
        asUser,
      ),
      'PERMISSION_DENIED',
      'REAUTHENTICATION_REQUIRED',
    );
    expect((await app.users.get(user.id))?.mfaEnabled).toBe(false);
    expect(app.users.eventsOfType('mfa_enabled')).toEqual([]);
  });

  it('refuses a principal whose sign-in time is unknown', async () => {
    const { app, user } = await setUp();
    await expectAppError(
      app.bus.run(
        app.useCases.enrollTotp,
        { userId: user.id },
        aCallContext({ user: { userId: user.id, sessionId: 's-unknown-age' } }),
      ),
      'PERMISSION_DENIED',
      'REAUTHENTICATION_REQUIRED',
    );
  });

  it('asks an AAL1 session of a user with MFA on for a step-up before anything else', async () => {
    const { app, user, asUser } = await confirmed();
    await expectAppError(
      app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser),
      'PERMISSION_DENIED',
      'STEP_UP_REQUIRED',
    );
  });

  it("leaves an administrator acting on another user's factor alone, whatever the session's age", async () => {
    const { app, user } = await setUp();
    const admin = aCallContext({
      user: { userId: ADMIN, sessionId: 's-admin', authenticatedAt: app.clock.now() },
    });
    app.clock.advance(24 * 3_600_000);
    await expect(
      app.bus.run(app.useCases.enrollTotp, { userId: user.id }, admin),
    ).resolves.toMatchObject({ secret: expect.any(String) });
  });

  it('takes its age limit from auth.privileged_session_max_age', async () => {
    const user = aUser();
    const app = aTestApp({
      authorizer: new TablePermissionChecker({ [user.id]: ['user.manage_mfa:own'] }),
      privilegedSession: { maxAgeMs: 60_000 },
    });
    await app.given(user);
    const asUser = aCallContext({
      user: { userId: user.id, sessionId: 's', authenticatedAt: app.clock.now() },
    });
    app.clock.advance(60_001);
    await expectAppError(
      app.bus.run(app.useCases.enrollTotp, { userId: user.id }, asUser),
      'PERMISSION_DENIED',
      'REAUTHENTICATION_REQUIRED',
    );
  });
});
