import { failWith, type AppError } from '@warden/errors';

/** Every reason authz-service answers with, and its one kind. */
export const REASONS = {
  ROLE_NOT_FOUND: 'NOT_FOUND',
  ROLE_ALREADY_EXISTS: 'ALREADY_EXISTS',
  ROLE_CYCLE: 'FAILED_PRECONDITION',
  BUILT_IN_ROLE: 'FAILED_PRECONDITION',
  ROLE_IN_USE: 'FAILED_PRECONDITION',
  LAST_ADMIN: 'FAILED_PRECONDITION',
  ESCALATION_DENIED: 'PERMISSION_DENIED',
  /** A stored grant that does not parse: our data is wrong, not the caller's request. */
  INVALID_GRANT: 'INTERNAL',
  /** A subject's assignments could not be read (Postgres down): retry later, never allow. */
  POLICY_UNAVAILABLE: 'UNAVAILABLE',
  /** A grant cannot be bound to a session that has ended, expired or does not exist. */
  SESSION_NOT_ACTIVE: 'FAILED_PRECONDITION',
  /** session-service could not say whether a session to bind to is active: never bind unchecked. */
  SESSIONS_UNAVAILABLE: 'UNAVAILABLE',
  /** A `min_revision` newer than any authz write committed so far. */
  REVISION_NOT_REACHED: 'FAILED_PRECONDITION',
} as const;

export const fail = failWith(REASONS);

export const roleNotFound = (name: string): AppError =>
  fail('ROLE_NOT_FOUND', `role ${name} does not exist`, { metadata: { role: name } });

export const roleAlreadyExists = (name: string): AppError =>
  fail('ROLE_ALREADY_EXISTS', `role ${name} already exists`, { metadata: { role: name } });

export const roleCycle = (name: string, path: readonly string[]): AppError =>
  fail('ROLE_CYCLE', `role ${name} would inherit itself: ${path.join(' -> ')}`, {
    metadata: { role: name },
  });

export const builtInRole = (name: string, why: string): AppError =>
  fail('BUILT_IN_ROLE', `role ${name} is built in: ${why}`, { metadata: { role: name } });

export const roleInUse = (name: string, inheritedBy: readonly string[]): AppError =>
  fail(
    'ROLE_IN_USE',
    `role ${name} is inherited by ${inheritedBy.join(', ')}; remove it from them first`,
    { metadata: { role: name } },
  );

/** The caller would hand out grants it does not hold; which ones goes to the log only. */
export const escalationDenied = (what: string, notHeld: readonly string[]): AppError =>
  fail('ESCALATION_DENIED', `${what} grants more than you hold`, {
    cause: `not held by the caller: ${notHeld.join(', ')}`,
  });

export const lastAdmin = (what: string): AppError =>
  fail('LAST_ADMIN', `${what} would leave no one holding *; give it to another subject first`);

export const invalidGrant = (text: string): AppError =>
  fail('INVALID_GRANT', `not a grant: ${text}`);

/** The session a grant was to be bound to is not active (ended, expired or unknown). */
export const sessionNotActive = (sessionId: string): AppError =>
  fail(
    'SESSION_NOT_ACTIVE',
    `session ${sessionId} is not active; bind the grant to an active one`,
    {
      metadata: { session_id: sessionId },
    },
  );

/** session-service did not answer; its error goes to the log only. */
export const sessionsUnavailable = (cause: unknown): AppError =>
  fail('SESSIONS_UNAVAILABLE', 'the session to bind to cannot be checked right now; retry', {
    cause,
  });

/** A cold check could not read the subject's assignments; the database error goes to the log only. */
export const policyUnavailable = (cause: unknown): AppError =>
  fail('POLICY_UNAVAILABLE', 'permissions cannot be read right now; retry', { cause });

/** A read asked for state newer than anything written: the revision did not come from a write here. */
export const revisionNotReached = (wanted: number, current: number): AppError =>
  fail(
    'REVISION_NOT_REACHED',
    `revision ${wanted} has not been written (the latest is ${current}); pass a revision a write returned`,
    { metadata: { min_revision: String(wanted), revision: String(current) } },
  );
