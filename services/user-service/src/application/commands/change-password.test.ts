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
    const ctx = aCallContext({ user: { userId: user.id, sessionId: 'session-7' } });

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
    const asOwner = aCallContext({ user: { userId: owner.id, sessionId: 's1' } });
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
});
