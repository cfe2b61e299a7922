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
  /** Proved by VerifyEmail, or kept from an import. */
  readonly emailVerified: boolean;
  /** The user's id in another system; empty when unset; unique when set. */
  readonly externalId: string;
  /** Free-form attributes within the limits of metadata.ts; `public.` keys are the user's to read. */
  readonly metadata: Readonly<Record<string, string>>;
  /** A second factor is on (the TOTP work sets it). */
  readonly mfaEnabled: boolean;
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
  /** ImportUsers: what the other system knew; the registered event says `imported`. */
  imported?: { emailVerified: boolean; externalId: string; metadata: Record<string, string> };
}): Change {
  const user: User = {
    id: input.id,
    email: input.email,
    displayName: input.displayName,
    passwordHash: input.passwordHash,
    status: 'ACTIVE',
    createTime: input.now,
    updateTime: input.now,
    emailVerified: input.imported?.emailVerified ?? false,
    externalId: input.imported?.externalId ?? '',
    metadata: input.imported?.metadata ?? {},
    mfaEnabled: false,
  };
  return {
    user,
    events: [
      {
        type: 'registered',
        userId: user.id,
        occurTime: input.now,
        ...(input.imported ? { imported: true } : {}),
      },
    ],
  };
}

/** The profile fields UpdateUser may set, each only when given. */
export interface ProfileUpdate {
  displayName?: string;
  externalId?: string;
  metadata?: Record<string, string>;
}

/** Applies the given fields; the event names those that changed (never their values). */
export function updateProfile(user: User, update: ProfileUpdate, now: Date): Change {
  const changed: string[] = [];
  let next: User = user;
  if (update.displayName !== undefined && update.displayName !== user.displayName) {
    next = { ...next, displayName: update.displayName };
    changed.push('display_name');
  }
  if (update.externalId !== undefined && update.externalId !== user.externalId) {
    next = { ...next, externalId: update.externalId };
    changed.push('external_id');
  }
  if (update.metadata !== undefined && !sameEntries(update.metadata, user.metadata)) {
    next = { ...next, metadata: update.metadata };
    changed.push('metadata');
  }
  if (changed.length === 0) return { user, events: [] };
  return {
    user: { ...next, updateTime: now },
    events: [{ type: 'updated', userId: user.id, updateMask: changed, occurTime: now }],
  };
}

const sameEntries = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k]);
};

/** VerifyEmail's effect; verifying again changes nothing and says nothing. */
export function verifyEmail(user: User, now: Date): Change {
  if (user.emailVerified) return { user, events: [] };
  return {
    user: { ...user, emailVerified: true, updateTime: now },
    events: [{ type: 'email_verified', userId: user.id, occurTime: now }],
  };
}

/**
 * ResetPassword's effect: the new hash, and every session ends (no session is kept: whoever reset
 * it proved only that they read the mail). A disabled user stays disabled but gets the password.
 */
export function resetPassword(user: User, passwordHash: string, now: Date): Change {
  return {
    user: { ...user, passwordHash, updateTime: now },
    events: [
      {
        type: 'password_changed',
        userId: user.id,
        exceptSessionId: '',
        reason: 'RESET',
        occurTime: now,
      },
    ],
  };
}

/**
 * A foreign or outdated hash replaced by a current one after a successful sign-in proved the
 * password: same password, so no event and no update_time change. Skipped when the hash changed
 * meanwhile (a concurrent ChangePassword wins).
 */
export function rehashPassword(user: User, previousHash: string, passwordHash: string): Change {
  if (user.passwordHash !== previousHash) return { user, events: [] };
  return { user: { ...user, passwordHash }, events: [] };
}

export const renameUser = (user: User, displayName: string, now: Date): Change =>
  updateProfile(user, { displayName }, now);

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
