import type { UserEvent } from './user-events.js';
import { accountDisabled } from '../errors.js';

export type UserStatus = 'ACTIVE' | 'DISABLED';

/** A user account; the aggregate every write use case changes through the functions below. */
export interface User {
  readonly id: string;
  /** Normalized (trimmed, lower-cased); unique among existing users. */
  readonly email: string;
  readonly displayName: string;
  readonly passwordHash: string;
  readonly status: UserStatus;
  readonly createTime: Date;
  readonly updateTime: Date;
}

/** What callers may see of a user: never the password hash. */
export type UserView = Omit<User, 'passwordHash'>;

export const toView = ({ passwordHash: _hash, ...view }: User): UserView => view;

/** A state change and the events it produces, saved together. */
export interface Change {
  user: User;
  events: UserEvent[];
}

export function registerUser(input: {
  id: string;
  email: string;
  displayName: string;
  passwordHash: string;
  now: Date;
}): Change {
  const user: User = {
    id: input.id,
    email: input.email,
    displayName: input.displayName,
    passwordHash: input.passwordHash,
    status: 'ACTIVE',
    createTime: input.now,
    updateTime: input.now,
  };
  return {
    user,
    events: [{ type: 'registered', userId: user.id, occurTime: input.now }],
  };
}

export function renameUser(user: User, displayName: string, now: Date): Change {
  if (user.displayName === displayName) return { user, events: [] };
  return {
    user: { ...user, displayName, updateTime: now },
    events: [
      {
        type: 'updated',
        userId: user.id,
        updateMask: ['display_name'],
        occurTime: now,
      },
    ],
  };
}

/** `exceptSessionId`: the caller's own session, which survives the change; empty ends them all. */
export function changePassword(
  user: User,
  passwordHash: string,
  exceptSessionId: string,
  now: Date,
): Change {
  if (user.status === 'DISABLED') throw accountDisabled();
  return {
    user: { ...user, passwordHash, updateTime: now },
    events: [
      {
        type: 'password_changed',
        userId: user.id,
        exceptSessionId,
        reason: 'CHANGE',
        occurTime: now,
      },
    ],
  };
}

export function disableUser(user: User, reason: string, now: Date): Change {
  if (user.status === 'DISABLED') return { user, events: [] };
  return {
    user: { ...user, status: 'DISABLED', updateTime: now },
    events: [{ type: 'disabled', userId: user.id, reason, occurTime: now }],
  };
}

export function enableUser(user: User, reason: string, now: Date): Change {
  if (user.status === 'ACTIVE') return { user, events: [] };
  return {
    user: { ...user, status: 'ACTIVE', updateTime: now },
    events: [{ type: 'enabled', userId: user.id, reason, occurTime: now }],
  };
}

/** Deleting erases the row; the event carries no personal data. */
export const deleteUser = (user: User, now: Date): UserEvent => ({
  type: 'deleted',
  userId: user.id,
  occurTime: now,
});
