import { sessionEnded, sessionExpired } from '../errors.js';

export type SessionStatus = 'ACTIVE' | 'ENDED' | 'EXPIRED';

/** Why a session stopped: IDLE_TIMEOUT and ABSOLUTE_TIMEOUT expire it, the others end it. */
export type EndReason =
  | 'LOGOUT'
  | 'ADMIN'
  | 'USER_DISABLED'
  | 'USER_DELETED'
  | 'PASSWORD_CHANGED'
  | 'REPLACED_BY_LIMIT'
  | 'IDLE_TIMEOUT'
  | 'ABSOLUTE_TIMEOUT'
  /** The user turned a second factor on: a session that never passed it (AAL1) ends. */
  | 'MFA_ENABLED';

/** How the user proved who they are: a password, then maybe a second factor (step-up). */
export type Factor = 'PASSWORD' | 'TOTP' | 'RECOVERY_CODE';
export type SecondFactor = Exclude<Factor, 'PASSWORD'>;
/** AAL1: one factor; AAL2: a second factor completed the sign-in (CompleteMfa). */
export type AssuranceLevel = 'AAL1' | 'AAL2';

/** The factors and level of a session signed in with a password and `second` (if any). */
export function authenticatedWith(second: SecondFactor | null): {
  factors: readonly Factor[];
  assuranceLevel: AssuranceLevel;
} {
  return second
    ? { factors: ['PASSWORD', second], assuranceLevel: 'AAL2' }
    : { factors: ['PASSWORD'], assuranceLevel: 'AAL1' };
}

/** The second factor a session was completed with, or null (the column sessions keep). */
export const secondFactorOf = (session: Pick<Session, 'factors'>): SecondFactor | null =>
  (session.factors.find((factor) => factor !== 'PASSWORD') as SecondFactor | undefined) ?? null;

export interface ClientInfo {
  ipAddress: string;
  userAgent: string;
}

export interface Session {
  readonly id: string;
  readonly userId: string;
  /** SHA-256 of the current token, hex. */
  readonly tokenHash: string;
  readonly status: SessionStatus;
  readonly createTime: Date;
  readonly expireTime: Date;
  readonly idleExpireTime: Date;
  readonly lastSeenTime: Date;
  readonly endTime: Date | null;
  readonly endReason: EndReason | null;
  readonly client: ClientInfo;
  /** PASSWORD first; a second factor when CompleteMfa created the session. */
  readonly factors: readonly Factor[];
  readonly assuranceLevel: AssuranceLevel;
}

export interface Lifetimes {
  absoluteTtlMs: number;
  idleTimeoutMs: number;
}

export function newSession(input: {
  id: string;
  userId: string;
  tokenHash: string;
  client: ClientInfo;
  now: Date;
  lifetimes: Lifetimes;
  /** The second factor CompleteMfa verified; none for a password-only sign-in. */
  secondFactor?: SecondFactor;
}): Session {
  const expireTime = new Date(input.now.getTime() + input.lifetimes.absoluteTtlMs);
  return {
    id: input.id,
    userId: input.userId,
    tokenHash: input.tokenHash,
    status: 'ACTIVE',
    createTime: input.now,
    expireTime,
    idleExpireTime: slidIdleExpiry(input.now, expireTime, input.lifetimes.idleTimeoutMs),
    lastSeenTime: input.now,
    endTime: null,
    endReason: null,
    client: input.client,
    ...authenticatedWith(input.secondFactor ?? null),
  };
}

/** The idle expiry after activity at `now`: never past the absolute expiry. */
export const slidIdleExpiry = (now: Date, expireTime: Date, idleTimeoutMs: number): Date =>
  new Date(Math.min(now.getTime() + idleTimeoutMs, expireTime.getTime()));

/**
 * The session as it stands at `now`: one past either expiry reads as EXPIRED even before the
 * sweeper records it, ending at the expiry instant. The absolute expiry wins a tie.
 */
export function asOf(session: Session, now: Date): Session {
  if (session.status !== 'ACTIVE') return session;
  const at = now.getTime();
  if (at >= session.expireTime.getTime()) {
    return {
      ...session,
      status: 'EXPIRED',
      endReason: 'ABSOLUTE_TIMEOUT',
      endTime: session.expireTime,
    };
  }
  if (at >= session.idleExpireTime.getTime()) {
    return {
      ...session,
      status: 'EXPIRED',
      endReason: 'IDLE_TIMEOUT',
      endTime: session.idleExpireTime,
    };
  }
  return session;
}

export const isActiveAt = (session: Session, now: Date): boolean =>
  asOf(session, now).status === 'ACTIVE';

/** Refuses a token whose session is not active at `now`, with the reason the proto names. */
export function assertUsable(session: Session, now: Date): void {
  const current = asOf(session, now);
  if (current.status === 'ENDED') throw sessionEnded();
  if (current.status === 'EXPIRED') throw sessionExpired();
}

/** Activity at `now`: last seen moves forward and the idle expiry slides. */
export function touch(session: Session, now: Date, idleTimeoutMs: number): Session {
  return {
    ...session,
    lastSeenTime: now,
    idleExpireTime: slidIdleExpiry(now, session.expireTime, idleTimeoutMs),
  };
}

/** A new token for the same session; counts as activity. */
export function rotate(
  session: Session,
  tokenHash: string,
  now: Date,
  idleTimeoutMs: number,
): Session {
  return { ...touch(session, now, idleTimeoutMs), tokenHash };
}

/** Ends an active session; undefined when it had already ended or expired (nothing to do). */
export function end(session: Session, reason: EndReason, now: Date): Session | undefined {
  if (!isActiveAt(session, now)) return undefined;
  return { ...session, status: 'ENDED', endReason: reason, endTime: now };
}

/** Records the expiry the session reached by `now`; undefined when it has not expired or is no longer active. */
export function expire(session: Session, now: Date): Session | undefined {
  if (session.status !== 'ACTIVE') return undefined;
  const current = asOf(session, now);
  return current.status === 'EXPIRED' ? current : undefined;
}
