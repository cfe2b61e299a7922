import { describe, expect, it } from 'vitest';
import { aUser } from '../../test/support/mothers.js';
import {
  changePassword,
  deleteUser,
  disableUser,
  enableUser,
  registerUser,
  rehashPassword,
  renameUser,
  resetPassword,
  toView,
  updateProfile,
  verifyEmail,
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

  it('registers an imported user with what the other system knew, and says it was imported', () => {
    const { user, events } = registerUser({
      id: 'u2',
      email: 'b@x.io',
      displayName: 'B',
      passwordHash: '$2b$04$x',
      now,
      imported: { emailVerified: true, externalId: 'legacy-1', metadata: { k: 'v' } },
    });
    expect(user).toMatchObject({
      emailVerified: true,
      externalId: 'legacy-1',
      metadata: { k: 'v' },
    });
    expect(events).toEqual([{ type: 'registered', userId: 'u2', occurTime: now, imported: true }]);
  });

  it('updates the given profile fields and names only the changed ones', () => {
    const user = aUser({ externalId: 'a', metadata: { k: 'v' } });
    const changed = updateProfile(user, { externalId: 'b', metadata: { k: 'v' } }, now);
    expect(changed.user).toMatchObject({ externalId: 'b', metadata: { k: 'v' }, updateTime: now });
    expect(changed.events).toEqual([
      { type: 'updated', userId: user.id, updateMask: ['external_id'], occurTime: now },
    ]);
    const same = updateProfile(user, { metadata: { k: 'v' }, displayName: user.displayName }, now);
    expect(same).toEqual({ user, events: [] });
  });

  it('verifies an email once', () => {
    const user = aUser();
    const verified = verifyEmail(user, now);
    expect(verified.user.emailVerified).toBe(true);
    expect(verified.events).toEqual([{ type: 'email_verified', userId: user.id, occurTime: now }]);
    expect(verifyEmail(verified.user, now)).toEqual({ user: verified.user, events: [] });
  });

  it('resets a password keeping no session, even for a disabled user', () => {
    const user = aUser({ status: 'DISABLED' });
    const reset = resetPassword(user, 'new-hash', now);
    expect(reset.user).toMatchObject({ passwordHash: 'new-hash', status: 'DISABLED' });
    expect(reset.events).toEqual([
      {
        type: 'password_changed',
        userId: user.id,
        exceptSessionId: '',
        reason: 'RESET',
        occurTime: now,
      },
    ]);
  });

  it('rehashes silently, and not over a hash that changed meanwhile', () => {
    const user = aUser({ passwordHash: '$2b$old' });
    expect(rehashPassword(user, '$2b$old', '$argon2id$new')).toEqual({
      user: { ...user, passwordHash: '$argon2id$new' },
      events: [],
    });
    expect(rehashPassword(user, '$2b$other', '$argon2id$new')).toEqual({ user, events: [] });
  });
});
