import type { CallContext, SealedAnswer } from '@warden/bus';
import type { MfaChallenge } from '../domain/mfa-challenge.js';
import type { SecondFactor, Session } from '../domain/session.js';
import type { SessionChange } from '../domain/session-events.js';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A new UUIDv7. */
  newId(): string;
}

export type UserStatus = 'ACTIVE' | 'DISABLED';

/**
 * user-service's credential check. Fails with AppError UNAUTHENTICATED/INVALID_CREDENTIALS,
 * RESOURCE_EXHAUSTED/ACCOUNT_LOCKED or UNAVAILABLE; a disabled user's right password succeeds.
 */
export interface CredentialsVerifier {
  verify(
    email: string,
    password: string,
    ctx: CallContext,
  ): Promise<{ userId: string; status: UserStatus; mfaEnabled: boolean }>;
}

/**
 * user-service's second-factor check (VerifySecondFactor): resolves when the code is right (and
 * spends it); fails with UNAUTHENTICATED/INVALID_SECOND_FACTOR, RESOURCE_EXHAUSTED/ACCOUNT_LOCKED,
 * FAILED_PRECONDITION/MFA_NOT_ENABLED or UNAVAILABLE.
 */
export interface SecondFactorVerifier {
  verify(userId: string, factor: PresentedSecondFactor, ctx: CallContext): Promise<void>;
}

export interface PresentedSecondFactor {
  kind: SecondFactor;
  code: string;
}

/**
 * Pending MFA challenges, by the hash of their id. `attempt` is a single atomic statement, so
 * concurrent CompleteMfa calls on one challenge count every attempt; a challenge is consumed by
 * the write saving the session it makes (SessionRepository `consumeChallenge`), so at most one of
 * them gets a session, and never a spent challenge without one.
 */
export interface MfaChallengeStore {
  add(challenge: MfaChallenge): Promise<void>;
  /**
   * Counts one attempt on a live challenge (not expired at `now`, under `maxAttempts` so far) and
   * returns it; undefined when there is no such live challenge.
   */
  attempt(idHash: string, now: Date, maxAttempts: number): Promise<MfaChallenge | undefined>;
  /** Deletes challenges expired before `before`; returns how many. */
  purgeExpired(before: Date): Promise<number>;
  /**
   * Deletes the user's pending challenges created at or before `createdBy` (all when absent):
   * a password proven before a reset or a disabling must not complete a sign-in after it.
   */
  dropForUser(userId: string, createdBy?: Date): Promise<number>;
}

/** Keyset position in a newest-first listing. */
export interface ListCursor {
  createTime: Date;
  id: string;
}

/** The latest activity of one session, written back in batches. */
export interface Activity {
  sessionId: string;
  lastSeenTime: Date;
  idleExpireTime: Date;
}

/** Marks a consumed event so that its effect applies once (written in the same transaction). */
export interface InboxEntry {
  consumer: string;
  eventId: string;
}

export interface WriteOptions {
  /** The caller's trace, carried by the events this write emits. */
  traceparent?: string;
}

/** What {@link SessionRepository.updateUserSessions} writes besides the changes. */
export interface UserSessionsWriteOptions extends WriteOptions {
  inbox?: InboxEntry;
  eraseUser?: boolean;
  startRequest?: string;
  consumeChallenge?: string;
  /**
   * A request_id's answer (idempotency's sealed record), written in the same transaction as the
   * changes; `committed()` is called once it has committed. A repository that cannot (memory)
   * leaves it, and idempotency stores it after the call as before.
   */
  answer?: SealedAnswer;
}

/**
 * Sessions, with their outbox: every method that changes state writes the changes' events in
 * the same transaction. The functions passed in run inside that transaction and may throw to
 * roll it back.
 */
export interface SessionRepository {
  findById(id: string): Promise<Session | undefined>;
  findByTokenHash(tokenHash: string): Promise<Session | undefined>;
  /** The session a token replaced by a refresh belonged to. */
  findByRotatedTokenHash(tokenHash: string): Promise<Session | undefined>;
  /** The session started by the request at this idempotency address (`startRequest`), if any. */
  findByStartRequest(requestAddress: string): Promise<Session | undefined>;
  /** Sessions with status ACTIVE and both expiries after `now`, newest first. */
  listActive(userId: string, now: Date, limit: number, after?: ListCursor): Promise<Session[]>;
  /**
   * Locks the session, applies `change`, saves its result; returns the session as saved (or as
   * found when `change` returns nothing), undefined when there is no such session.
   */
  update(
    id: string,
    change: (session: Session) => SessionChange | undefined,
    options?: WriteOptions,
  ): Promise<Session | undefined>;
  /**
   * Locks the user's sessions with status ACTIVE (serializing concurrent calls for one user), then
   * saves the changes `decide` returns (new sessions included). With `inbox`, does nothing and
   * returns undefined when that event was applied before. With `eraseUser` (the user was
   * deleted), also erases in the same transaction the client data (IP, user agent) of every
   * session of the user whatever its status, that data in their outbox rows, and the idempotent
   * responses about the user. With `startRequest` (an idempotency record's address), links the
   * session `decide` starts to it in the same transaction, for findByStartRequest: a retry after
   * a crash between the commit and the stored answer finds the session instead of making another.
   * With `consumeChallenge` (an MFA challenge's id hash), deletes that challenge in the same
   * transaction, and throws MFA_CHALLENGE_NOT_FOUND, saving nothing, when it is gone (another call
   * consumed it): CompleteMfa's challenge is spent exactly when its session is saved.
   */
  updateUserSessions(
    userId: string,
    decide: (active: Session[]) => SessionChange[],
    options?: UserSessionsWriteOptions,
  ): Promise<SessionChange[] | undefined>;
  /** Moves last-seen and idle expiry forward (never back) on sessions still ACTIVE. */
  recordActivity(batch: readonly Activity[]): Promise<void>;
  /**
   * Claims up to `limit` ACTIVE sessions past their absolute expiry at `now` or idle since
   * before `idleCutoff`, skipping rows other sweepers hold, and saves what `expire` makes of them.
   */
  expireDue(
    now: Date,
    idleCutoff: Date,
    limit: number,
    expire: (session: Session) => SessionChange | undefined,
  ): Promise<SessionChange[]>;
  /**
   * Deletes up to `limit` sessions that ended (any status but ACTIVE) before `endedBefore`, with
   * their rotated tokens, skipping rows another worker holds; returns how many it deleted.
   */
  purgeEnded(endedBefore: Date, limit: number): Promise<number>;
}
