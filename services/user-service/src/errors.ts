import { AppError, invalidArgument, notFound } from '@warden/errors';

export const userNotFound = (userId: string): AppError =>
  notFound('USER_NOT_FOUND', `user ${userId} does not exist`, { user_id: userId });

export const emailTaken = (): AppError =>
  new AppError('ALREADY_EXISTS', 'EMAIL_TAKEN', 'a user with this email already exists');

/** The same error for an unknown email and a wrong password, so it reveals nothing. */
export const invalidCredentials = (): AppError =>
  new AppError('UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'email or password is incorrect');

export const accountLocked = (retryAfterMs: number): AppError => {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AppError(
    'RESOURCE_EXHAUSTED',
    'ACCOUNT_LOCKED',
    `too many failed attempts; retry in ${seconds} s`,
    {
      metadata: { retry_after_seconds: String(seconds) },
      retryAfterMs,
    },
  );
};

/** Password hashing is at capacity: the caller should back off, nothing was checked or counted. */
export const passwordChecksBusy = (retryAfterMs: number): AppError =>
  new AppError(
    'RESOURCE_EXHAUSTED',
    'PASSWORD_CHECKS_BUSY',
    'too many password checks in progress; retry shortly',
    { retryAfterMs },
  );

export const accountDisabled = (): AppError =>
  new AppError('PERMISSION_DENIED', 'ACCOUNT_DISABLED', 'the account is disabled');

export const passwordBreached = (field: string): AppError =>
  invalidArgument(
    [{ field, description: 'appears in a known data breach; choose another password' }],
    'PASSWORD_BREACHED',
  );
