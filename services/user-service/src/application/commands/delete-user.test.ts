import { describe, expect, it } from 'vitest';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';
import { DEFAULT_LOCKOUT } from '../../domain/login-failures.js';

describe('DeleteUser', () => {
  it('erases the user and their login failures, announces it, and frees the email', async () => {
    const app = aTestApp();
    const user = aUser();
    await app.given(user);
    await app.loginFailures.takeSlot(user.email, app.clock.now(), DEFAULT_LOCKOUT);
    expect(await app.loginFailures.get(user.email)).toBeDefined();

    await app.bus.run(app.useCases.deleteUser, { userId: user.id }, aCallContext());

    expect(await app.users.get(user.id)).toBeUndefined();
    expect(await app.loginFailures.get(user.email)).toBeUndefined();
    expect(app.users.eventsOfType('deleted')).toEqual([
      { type: 'deleted', userId: user.id, occurTime: app.clock.now() },
    ]);
    await expectAppError(
      app.bus.run(app.useCases.getUser, { userId: user.id }, aCallContext()),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
    await expect(
      app.users.add({ user: aUser({ email: user.email }), events: [] }),
    ).resolves.toBeUndefined();
  });

  it('answers NOT_FOUND for an already deleted user', async () => {
    const app = aTestApp();
    const user = aUser();
    await app.given(user);
    await app.bus.run(app.useCases.deleteUser, { userId: user.id }, aCallContext());
    await expectAppError(
      app.bus.run(app.useCases.deleteUser, { userId: user.id }, aCallContext()),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
    expect(app.users.eventsOfType('deleted')).toHaveLength(1);
  });
});
