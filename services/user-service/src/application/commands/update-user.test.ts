import { describe, expect, it } from 'vitest';
import { aCallContext, aUser } from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { aTestApp } from '../../../test/support/test-app.js';
import type { UpdateUser } from './update-user.js';

async function setup() {
  const app = aTestApp();
  const user = aUser({ displayName: 'Old Name' });
  await app.given(user);
  const update = (cmd: Omit<UpdateUser, 'userId'> & { userId?: string }) =>
    app.bus.run(app.useCases.updateUser, { userId: user.id, ...cmd }, aCallContext());
  return { app, user, update };
}

describe('UpdateUser', () => {
  it('updates the display name named in the mask, trimmed, and announces the change', async () => {
    const { app, user, update } = await setup();
    app.clock.advance(1000);
    const updated = await update({ displayName: '  New Name ', updateMask: ['display_name'] });
    expect(updated).toMatchObject({ displayName: 'New Name', updateTime: app.clock.now() });
    expect(app.users.eventsOfType('updated')).toEqual([
      {
        type: 'updated',
        userId: user.id,
        updateMask: ['display_name'],
        occurTime: app.clock.now(),
      },
    ]);
  });

  it('with an empty mask updates the fields given a non-empty value', async () => {
    const { update } = await setup();
    await expect(update({ displayName: 'Via Empty Mask', updateMask: [] })).resolves.toMatchObject({
      displayName: 'Via Empty Mask',
    });
  });

  it('with an empty mask and nothing set changes nothing', async () => {
    const { app, update } = await setup();
    await expect(update({ displayName: '', updateMask: [] })).resolves.toMatchObject({
      displayName: 'Old Name',
    });
    expect(app.users.outbox).toEqual([]);
  });

  it('clears the display name when the mask names it and the value is empty', async () => {
    const { update } = await setup();
    await expect(update({ displayName: '', updateMask: ['display_name'] })).resolves.toMatchObject({
      displayName: '',
    });
  });

  it('emits nothing when the name does not change', async () => {
    const { app, update } = await setup();
    await update({ displayName: 'Old Name', updateMask: ['*'] });
    expect(app.users.outbox).toEqual([]);
  });

  it.each([['email'], ['status'], ['password_hash'], ['displayName']])(
    'refuses the mask path %s',
    async (path) => {
      const { update } = await setup();
      const error = await expectAppError(
        update({ displayName: 'x', updateMask: [path] }),
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
      );
      expect(error.violations[0]?.field).toBe('update_mask');
    },
  );

  it('refuses a bad display name and an unknown user', async () => {
    const { update } = await setup();
    const error = await expectAppError(
      update({ displayName: 'a'.repeat(101), updateMask: [] }),
      'INVALID_ARGUMENT',
    );
    expect(error.violations[0]?.field).toBe('display_name');
    await expectAppError(
      update({ userId: aUser().id, displayName: 'x', updateMask: [] }),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
    await expectAppError(
      update({ userId: aUser().id, displayName: '', updateMask: [] }),
      'NOT_FOUND',
      'USER_NOT_FOUND',
    );
  });
});
