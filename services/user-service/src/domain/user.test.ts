import { describe, expect, it } from 'vitest';
import { aUser } from '../../test/support/mothers.js';
import {
  changePassword,
  deleteUser,
  disableUser,
  enableUser,
  registerUser,
  renameUser,
  toView,
} from './user.js';
import { AppError } from '@warden/errors';

const now = new Date('2026-02-01T00:00:00.000Z');

describe('user', () => {
  it('registers active and announces it', () => {
    const { user, events } = registerUser({
      id: 'u1',
      email: 'a@x.io',
      displayName: 'A',
      passwordHash: 'h',
      now,
    });
    expect(user).toMatchObject({ status: 'ACTIVE', createTime: now, updateTime: now });
    expect(events).toEqual([{ type: 'registered', userId: 'u1', occurTime: now }]);
  });

  it('never shows the password hash in its view', () => {
    expect(toView(aUser())).not.toHaveProperty('passwordHash');
  });

  it('renames, and a rename to the same name changes nothing', () => {
    const user = aUser({ displayName: 'Old' });
    expect(renameUser(user, 'New', now).events).toEqual([
      {
        type: 'updated',
        userId: user.id,
        updateMask: ['display_name'],
        occurTime: now,
      },
    ]);
    const same = renameUser(user, 'Old', now);
    expect(same.user).toBe(user);
    expect(same.events).toEqual([]);
  });

  it('disables and enables idempotently', () => {
    const user = aUser();
    const disabled = disableUser(user, 'abuse', now);
    expect(disabled.user.status).toBe('DISABLED');
    expect(disabled.events).toEqual([
      { type: 'disabled', userId: user.id, reason: 'abuse', occurTime: now },
    ]);
    expect(disableUser(disabled.user, 'again', now)).toEqual({ user: disabled.user, events: [] });
    const enabled = enableUser(disabled.user, 'appeal', now);
    expect(enabled.user.status).toBe('ACTIVE');
    expect(enabled.events).toEqual([
      { type: 'enabled', userId: user.id, reason: 'appeal', occurTime: now },
    ]);
    expect(enableUser(enabled.user, '', now).events).toEqual([]);
  });

  it('changes the password of an active user only', () => {
    const user = aUser();
    const changed = changePassword(user, 'new-hash', 'session-1', now);
    expect(changed.user.passwordHash).toBe('new-hash');
    expect(changed.events).toEqual([
      {
        type: 'password_changed',
        userId: user.id,
        exceptSessionId: 'session-1',
        reason: 'CHANGE',
        occurTime: now,
      },
    ]);
    expect(() => changePassword(aUser({ status: 'DISABLED' }), 'h', '', now)).toThrow(AppError);
  });

  it('announces a deletion without personal data', () => {
    const user = aUser();
    expect(deleteUser(user, now)).toEqual({ type: 'deleted', userId: user.id, occurTime: now });
  });
});
