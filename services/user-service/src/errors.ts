import { failWith, type AppError } from '@warden/errors';

/** Every reason user-service answers with, and its one kind. */
export const REASONS = {
  USER_NOT_FOUND: 'NOT_FOUND',
  EMAIL_TAKEN: 'ALREADY_EXISTS',
  INVALID_CREDENTIALS: 'UNAUTHENTICATED',
  ACCOUNT_LOCKED: 'RESOURCE_EXHAUSTED',
  PASSWORD_CHECKS_BUSY: 'RESOURCE_EXHAUSTED',
  ACCOUNT_DISABLED: 'PERMISSION_DENIED',
  PASSWORD_BREACHED: 'INVALID_ARGUMENT',
} as const;

export const fail = failWith(REASONS);

export const userNotFound = (userId: string): AppError =>
  fail('USER_NOT_FOUND', `user ${userId} does not exist`, { metadata: { user_id: userId } });

export const emailTaken = (): AppError =>
  fail('EMAIL_TAKEN', 'a user with this email already exists');

/** The same error for an unknown email and a wrong password, so it reveals nothing. */
export const invalidCredentials = (): AppError =>
  fail('INVALID_CREDENTIALS', 'email or password is incorrect');

export const accountLocked = (retryAfterMs: number): AppError => {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return fail('ACCOUNT_LOCKED', `too many failed attempts; retry in ${seconds} s`, {
    metadata: { retry_after_seconds: String(seconds) },
    retryAfterMs,
  });
};

/** Password hashing is at capacity: the caller should back off, nothing was checked or counted. */
export const passwordChecksBusy = (retryAfterMs: number): AppError =>
  fail('PASSWORD_CHECKS_BUSY', 'too many password checks in progress; retry shortly', {
    retryAfterMs,
  });

export const accountDisabled = (): AppError => fail('ACCOUNT_DISABLED', 'the account is disabled');

export const passwordBreached = (field: string): AppError => {
  const violation = {
    field,
    description: 'appears in a known data breach; choose another password',
  };
  return fail('PASSWORD_BREACHED', `${field}: ${violation.description}`, {
    violations: [violation],
  });
};
