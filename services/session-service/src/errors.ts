import { AppError, notFound, unauthenticated } from '@warden/errors';

/** A token that names no session (unknown, malformed, or replaced by a refresh). */
export const tokenNotFound = (): AppError =>
  unauthenticated('SESSION_NOT_FOUND', 'no session has this token');

export const sessionNotFound = (sessionId: string): AppError =>
  notFound('SESSION_NOT_FOUND', `session ${sessionId} does not exist`, { session_id: sessionId });

export const accountDisabled = (): AppError =>
  new AppError('PERMISSION_DENIED', 'ACCOUNT_DISABLED', 'the account is disabled');
