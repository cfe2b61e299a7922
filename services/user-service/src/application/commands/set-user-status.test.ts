import { describe, expect, it } from 'vitest';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';

describe('DisableUser and EnableUser', () => {
  it('disable once, announce once; disabling again returns the user unchanged', async () => {
    const app = aTestApp();
    const user = aUser();
    await app.given(user);
    const disable = () =>
      app.bus.run(app.useCases.disableUser, { userId: user.id, reason: ' spam ' }, aCallContext());

    await expect(disable()).resolves.toMatchObject({ status: 'DISABLED' });
    await expect(disable()).resolves.toMatchObject({ status: 'DISABLED' });
    expect(app.users.eventsOfType('disabled')).toEqual([
      { type: 'disabled', userId: user.id, reason: 'spam', occurTime: app.clock.now() },
    ]);
  });

  it('enable a disabled user, announce once; enabling an active user emits nothing', async () => {
    const app = aTestApp();
    const user = aUser({ status: 'DISABLED' });
    await app.given(user);
    const enable = () =>
      app.bus.run(app.useCases.enableUser, { userId: user.id, reason: '' }, aCallContext());

    await expect(enable()).resolves.toMatchObject({ status: 'ACTIVE' });
    await expect(enable()).resolves.toMatchObject({ status: 'ACTIVE' });
    expect(app.users.eventsOfType('enabled')).toHaveLength(1);
  });

  it('refuses a reason over 500 characters, a malformed id and an unknown user', async () => {
    const app = aTestApp();
    const user = aUser();
    await app.given(user);
    const long = await expectAppError(
      app.bus.run(
        app.useCases.disableUser,
        { userId: user.id, reason: 'x'.repeat(501) },
        aCallContext(),
      ),
      'INVALID_ARGUMENT',
    );
    expect(long.violations[0]?.field).toBe('reason');
    await expectAppError(
      app.bus.run(app.useCases.disableUser, { userId: 'nope', reason: '' }, aCallContext()),
      'INVALID_ARGUMENT',
    );
    await expectAppError(
      app.bus.run(app.useCases.enableUser, { userId: aUser().id, reason: '' }, aCallContext()),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
  });
});
