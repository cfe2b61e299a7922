import { describe, expect, it } from 'vitest';
import { TablePermissionChecker } from '@warden/bus';
import { aCallContext, aUser, CORRECT_PASSWORD } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { fakeHashOf } from '../../../test/support/fakes.js';
import { aTestApp } from '../../../test/support/test-app.js';
import type { ChangePassword } from './change-password.js';

const NEW_PASSWORD = 'a brand new secret';

function setup(options: Parameters<typeof aTestApp>[0] = {}) {
  const app = aTestApp({
    authorizer: new TablePermissionChecker({ 'service:gateway': ['*'] }).grant(
      '0190c7a6-0000-7000-8000-000000000001',
      'user.change_password:own',
    ),
    ...options,
  });
  const change = (cmd: ChangePassword, ctx = aCallContext()) =>
    app.bus.run(app.useCases.changePassword, cmd, ctx);
  return { app, change };
}

describe('ChangePassword', () => {
  it("stores the new hash and keeps the caller's own session when users change their own password", async () => {
    const { app, change } = setup();
    const user = aUser({ id: '0190c7a6-0000-7000-8000-000000000001' });
    await app.given(user);
    const ctx = aCallContext({
      user: { userId: user.id, sessionId: 'session-7', authenticatedAt: app.clock.now() },
    });

    await change(
      { userId: user.id, currentPassword: CORRECT_PASSWORD, newPassword: NEW_PASSWORD },
      ctx,
    );

    expect((await app.users.get(user.id))?.passwordHash).toBe(fakeHashOf(NEW_PASSWORD));
    expect(app.users.eventsOfType('password_changed')).toEqual([
      {
        type: 'password_changed',
        userId: user.id,
        exceptSessionId: 'session-7',
        reason: 'CHANGE',
        occurTime: app.clock.now(),
      },
    ]);
  });

  it('ends every session when someone else (an admin, a service) changes it', async () => {
    const { app, change } = setup();
    const user = aUser();
    await app.given(user);
    await change({ userId: user.id, currentPassword: CORRECT_PASSWORD, newPassword: NEW_PASSWORD });
    expect(app.users.eventsOfType('password_changed')[0]?.exceptSessionId).toBe('');
  });

  it('refuses a wrong current password and counts it towards lockout', async () => {
    const { app, change } = setup({ lockout: { maxFailures: 2, windowMs: 60_000 } });
    const user = aUser();
    await app.given(user);
    const attempt = () =>
      change({ userId: user.id, currentPassword: 'not the password', newPassword: NEW_PASSWORD });
    await expectAppError(attempt(), 'UNAUTHENTICATED', 'INVALID_CREDENTIALS');
    await expectAppError(attempt(), 'UNAUTHENTICATED', 'INVALID_CREDENTIALS');
    await expectAppError(attempt(), 'RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED');
    expect(app.users.outbox).toEqual([]);
  });

  it('refuses a disabled account', async () => {
    const { app, change } = setup();
    const user = aUser({ status: 'DISABLED' });
    await app.given(user);
    await expectAppError(
      change({ userId: user.id, currentPassword: CORRECT_PASSWORD, newPassword: NEW_PASSWORD }),
      'PERMISSION_DENIED',
      'ACCOUNT_DISABLED',
    );
  });

  it('refuses a weak or breached new password with a violation on new_password', async () => {
    const { app, change } = setup({ breached: ['breached password'] });
    const user = aUser();
    await app.given(user);
    const weak = await expectAppError(
      change({ userId: user.id, currentPassword: CORRECT_PASSWORD, newPassword: 'short' }),
      'INVALID_ARGUMENT',
      'WEAK_PASSWORD',
    );
    expect(weak.violations[0]?.field).toBe('new_password');
    const breached = await expectAppError(
      change({
        userId: user.id,
        currentPassword: CORRECT_PASSWORD,
        newPassword: 'breached password',
      }),
      'INVALID_ARGUMENT',
      'PASSWORD_BREACHED',
    );
    expect(breached.violations[0]?.field).toBe('new_password');
  });

  it('refuses an empty current password and an unknown user', async () => {
    const { change } = setup();
    const empty = await expectAppError(
      change({ userId: aUser().id, currentPassword: '', newPassword: NEW_PASSWORD }),
      'INVALID_ARGUMENT',
    );
    expect(empty.violations[0]?.field).toBe('current_password');
    await expectAppError(
      change({ userId: aUser().id, currentPassword: CORRECT_PASSWORD, newPassword: NEW_PASSWORD }),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
  });

  it('checks user.change_password on the user, so :own grants work only for oneself', async () => {
    const { app, change } = setup();
    const owner = aUser({ id: '0190c7a6-0000-7000-8000-000000000001' });
    const other = aUser();
    await app.given(owner, other);
    const asOwner = aCallContext({
      user: { userId: owner.id, sessionId: 's1', authenticatedAt: app.clock.now() },
    });
    await expectAppError(
      change(
        { userId: other.id, currentPassword: CORRECT_PASSWORD, newPassword: NEW_PASSWORD },
        asOwner,
      ),
      'PERMISSION_DENIED',
    );
    await expect(
      change(
        { userId: owner.id, currentPassword: CORRECT_PASSWORD, newPassword: NEW_PASSWORD },
        asOwner,
      ),
    ).resolves.toBeUndefined();
  });

  describe("from the user's own session, which must be privileged", () => {
    const OWNER = '0190c7a6-0000-7000-8000-000000000001';
    const own = (authenticatedAt: Date, assuranceLevel: 'AAL1' | 'AAL2' = 'AAL1') =>
      aCallContext({
        user: { userId: OWNER, sessionId: 's-own', authenticatedAt, assuranceLevel },
      });
    const changeOwn = {
      userId: OWNER,
      currentPassword: CORRECT_PASSWORD,
      newPassword: NEW_PASSWORD,
    };

    it('refuses a session older than 15 min before testing the password: nothing counted, nothing changed', async () => {
      const { app, change } = setup({ lockout: { maxFailures: 1, windowMs: 60_000 } });
      await app.given(aUser({ id: OWNER }));
      const ctx = own(app.clock.now());
      app.clock.advance(15 * 60_000 + 1);
      for (const currentPassword of ['a guess', CORRECT_PASSWORD]) {
        await expectAppError(
          change({ ...changeOwn, currentPassword }, ctx),
          'PERMISSION_DENIED',
          'REAUTHENTICATION_REQUIRED',
        );
      }
      expect(app.lockouts.count).toBe(0);
      expect((await app.users.get(OWNER))?.passwordHash).toBe(fakeHashOf(CORRECT_PASSWORD));
      // Signed in again: the same change goes through (the guess above was never counted).
      await expect(change(changeOwn, own(app.clock.now()))).resolves.toBeUndefined();
    });

    it('asks a user with MFA on for an AAL2 session, however fresh the AAL1 one', async () => {
      const { app, change } = setup();
      await app.given(aUser({ id: OWNER, mfaEnabled: true }));
      await expectAppError(
        change(changeOwn, own(app.clock.now(), 'AAL1')),
        'PERMISSION_DENIED',
        'STEP_UP_REQUIRED',
      );
      await expect(change(changeOwn, own(app.clock.now(), 'AAL2'))).resolves.toBeUndefined();
    });

    it('refuses an AAL2 session of a user with MFA once it is older than the limit', async () => {
      const { app, change } = setup();
      await app.given(aUser({ id: OWNER, mfaEnabled: true }));
      const ctx = own(app.clock.now(), 'AAL2');
      app.clock.advance(15 * 60_000 + 1);
      await expectAppError(
        change(changeOwn, ctx),
        'PERMISSION_DENIED',
        'REAUTHENTICATION_REQUIRED',
      );
    });
  });
});
