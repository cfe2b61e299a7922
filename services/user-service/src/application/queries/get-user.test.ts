import { describe, expect, it } from 'vitest';
import { TablePermissionChecker } from '@warden/bus';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';

describe('GetUser', () => {
  it('checks user.read on the user as owner, so a user may read themselves with user.read:own', async () => {
    const me = aUser();
    const other = aUser();
    const authorizer = new TablePermissionChecker().grant(me.id, 'user.read:own');
    const app = aTestApp({ authorizer });
    await app.given(me, other);
    const asMe = aCallContext({ user: { userId: me.id, sessionId: 's1' } });

    await expect(app.bus.run(app.useCases.getUser, { userId: me.id }, asMe)).resolves.toMatchObject(
      { id: me.id, email: me.email },
    );
    await expectAppError(
      app.bus.run(app.useCases.getUser, { userId: other.id }, asMe),
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    );
    expect(authorizer.asked[0]).toEqual({
      subjectId: me.id,
      permission: 'user.read',
      resource: { type: 'user', id: me.id, ownerId: me.id },
    });
  });

  it('asks a service without a user to bring a user token when the service itself lacks the grant', async () => {
    const app = aTestApp({ authorizer: new TablePermissionChecker() });
    await expectAppError(
      app.bus.run(app.useCases.getUser, { userId: aUser().id }, aCallContext()),
      'UNAUTHENTICATED',
      'USER_TOKEN_REQUIRED',
    );
  });

  it('refuses a malformed id before asking for permission', async () => {
    const authorizer = new TablePermissionChecker();
    const app = aTestApp({ authorizer });
    const error = await expectAppError(
      app.bus.run(app.useCases.getUser, { userId: 'not-a-uuid' }, aCallContext()),
      'INVALID_ARGUMENT',
    );
    expect(error.violations).toEqual([{ field: 'user_id', description: 'must be a UUID' }]);
    expect(authorizer.asked).toEqual([]);
  });

  it('answers NOT_FOUND USER_NOT_FOUND for an unknown id', async () => {
    const app = aTestApp();
    await expectAppError(
      app.bus.run(app.useCases.getUser, { userId: aUser().id }, aCallContext()),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
  });
});
