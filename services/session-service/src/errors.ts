import { AppError, failWith } from '@warden/errors';

/** Every reason session-service answers with, and its one kind. */
export const REASONS = {
  /** By id (GetSession, EndSession); for a token see tokenNotFound. */
  SESSION_NOT_FOUND: 'NOT_FOUND',
  SESSION_ENDED: 'UNAUTHENTICATED',
  SESSION_EXPIRED: 'UNAUTHENTICATED',
  ACCOUNT_DISABLED: 'PERMISSION_DENIED',
  /** Passed through from user-service's VerifyCredentials. */
  INVALID_CREDENTIALS: 'UNAUTHENTICATED',
  ACCOUNT_LOCKED: 'RESOURCE_EXHAUSTED',
  PASSWORD_CHECKS_BUSY: 'RESOURCE_EXHAUSTED',
  USER_SERVICE_UNAVAILABLE: 'UNAVAILABLE',
  /** user-service refused our own call (identity, wiring): a fault of ours, never the caller's. */
  INTERNAL: 'INTERNAL',
  WATCH_STREAMS_EXHAUSTED: 'RESOURCE_EXHAUSTED',
  WATCH_TOO_SLOW: 'RESOURCE_EXHAUSTED',
  EVENT_FEED_LOST: 'UNAVAILABLE',
  SHUTTING_DOWN: 'UNAVAILABLE',
  /** Step-up (issue 13): the challenge is unknown, expired, used or out of attempts. */
  MFA_CHALLENGE_NOT_FOUND: 'UNAUTHENTICATED',
  /** Passed through from user-service's VerifySecondFactor. */
  INVALID_SECOND_FACTOR: 'UNAUTHENTICATED',
  /**
   * A sign-in's request_id replayed after its answer stopped standing: the session ended, expired
   * or was refreshed, or the account's second factor was turned on or off since.
   */
  REPLAY_OUTDATED: 'FAILED_PRECONDITION',
  /** WatchRevocations: `after` is not a cursor this service issued. */
  INVALID_CURSOR: 'INVALID_ARGUMENT',
  /** WatchRevocations: what follows `after` is past the streams' retention. */
  CURSOR_EXPIRED: 'OUT_OF_RANGE',
} as const;

export const fail = failWith(REASONS);

/**
 * A token that names no session (unknown, malformed, or replaced by a refresh). The one exception
 * to the catalogue: session.proto's v1 contract answers a token with UNAUTHENTICATED SESSION_NOT_FOUND.
 */
export const tokenNotFound = (): AppError =>
  new AppError('UNAUTHENTICATED', 'SESSION_NOT_FOUND', 'no session has this token');

export const sessionNotFound = (sessionId: string): AppError =>
  fail('SESSION_NOT_FOUND', `session ${sessionId} does not exist`, {
    metadata: { session_id: sessionId },
  });

export const sessionEnded = (): AppError => fail('SESSION_ENDED', 'the session has ended');

export const replayOutdated = (): AppError =>
  fail(
    'REPLAY_OUTDATED',
    'the sign-in this request_id made no longer stands (its session ended or was refreshed, or the second factor changed); sign in again with a new request_id',
  );

export const sessionExpired = (): AppError => fail('SESSION_EXPIRED', 'the session has expired');

export const accountDisabled = (): AppError => fail('ACCOUNT_DISABLED', 'the account is disabled');

export const userServiceUnavailable = (cause: unknown): AppError =>
  fail('USER_SERVICE_UNAVAILABLE', 'user service unavailable', { cause });

export const userServiceRefused = (detail: string, cause: unknown): AppError =>
  fail('INTERNAL', `user-service refused VerifyCredentials: ${detail}`, { cause });

export const watchTooSlow = (capacity: number): AppError =>
  fail('WATCH_TOO_SLOW', `the watcher fell ${capacity} events behind; reconnect and re-validate`);

export const watchStreamsExhausted = (scope: 'caller' | 'process', limit: number): AppError =>
  fail(
    'WATCH_STREAMS_EXHAUSTED',
    scope === 'caller'
      ? `this service already has ${limit} WatchSessions streams open; close one first`
      : 'this server has no room for another WatchSessions stream; retry on another replica or later',
    { metadata: { scope, limit: String(limit) } },
  );

export const eventFeedLost = (): AppError =>
  fail('EVENT_FEED_LOST', 'session events are interrupted; reconnect and re-validate');

export const shuttingDown = (): AppError =>
  fail('SHUTTING_DOWN', 'session-service is shutting down; reconnect');

export const mfaChallengeNotFound = (): AppError =>
  fail('MFA_CHALLENGE_NOT_FOUND', 'the sign-in challenge is unknown, expired or used up');

export const invalidSecondFactor = (): AppError =>
  fail('INVALID_SECOND_FACTOR', 'the second factor is incorrect');

export const invalidCursor = (): AppError =>
  fail('INVALID_CURSOR', 'after is not a WatchRevocations cursor', {
    violations: [{ field: 'after', description: 'must be a cursor from an earlier item' }],
  });

export const cursorExpired = (stream: string, firstSeq: number): AppError =>
  fail(
    'CURSOR_EXPIRED',
    'revocations after this cursor are past retention; re-validate cached tokens and start anew',
    { metadata: { stream, first_sequence: String(firstSeq) } },
  );
