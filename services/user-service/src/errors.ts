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
  /** A one-time code (email verification, password reset) that is wrong, used, burnt or absent. */
  INVALID_CODE: 'INVALID_ARGUMENT',
  /** An email verification code past its expire_time. */
  CODE_EXPIRED: 'INVALID_ARGUMENT',
  EMAIL_ALREADY_VERIFIED: 'FAILED_PRECONDITION',
  EXTERNAL_ID_TAKEN: 'ALREADY_EXISTS',
  /** An ImportUsers row's password hash: not a supported PHC/MCF string, or out-of-range parameters. */
  INVALID_HASH: 'INVALID_ARGUMENT',
  MFA_ALREADY_ENABLED: 'FAILED_PRECONDITION',
  MFA_NOT_ENABLED: 'FAILED_PRECONDITION',
  TOTP_NOT_ENROLLED: 'FAILED_PRECONDITION',
  INVALID_SECOND_FACTOR: 'UNAUTHENTICATED',
  /** A user's own credential change from a session older than auth.privileged_session_max_age. */
  REAUTHENTICATION_REQUIRED: 'PERMISSION_DENIED',
  /** A user with a second factor changing their own credentials from an AAL1 session. */
  STEP_UP_REQUIRED: 'PERMISSION_DENIED',
  /** A second permission a request needs beyond its RPC's (metadata paths, private metadata keys). */
  PERMISSION_DENIED: 'PERMISSION_DENIED',
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

/** One answer for a wrong, used, burnt or missing code: which one it was is nobody's business. */
export const invalidCode = (): AppError =>
  fail('INVALID_CODE', 'code: is incorrect, used or no longer valid', {
    violations: [{ field: 'code', description: 'is incorrect, used or no longer valid' }],
  });

export const codeExpired = (): AppError =>
  fail('CODE_EXPIRED', 'code: has expired; request a new one', {
    violations: [{ field: 'code', description: 'has expired; request a new one' }],
  });

export const emailAlreadyVerified = (): AppError =>
  fail('EMAIL_ALREADY_VERIFIED', 'the email is verified already');

export const externalIdTaken = (): AppError =>
  fail('EXTERNAL_ID_TAKEN', 'a user with this external id already exists');

export const invalidHash = (why: string): AppError =>
  fail('INVALID_HASH', `password_hash: ${why}`, {
    violations: [{ field: 'password_hash', description: why }],
  });

export const mfaAlreadyEnabled = (): AppError =>
  fail('MFA_ALREADY_ENABLED', 'a second factor is enabled already');

export const mfaNotEnabled = (): AppError =>
  fail('MFA_NOT_ENABLED', 'the user has no second factor');

export const totpNotEnrolled = (): AppError =>
  fail('TOTP_NOT_ENROLLED', 'no TOTP enrolment is pending; call EnrollTotp first');

export const invalidSecondFactor = (): AppError =>
  fail('INVALID_SECOND_FACTOR', 'the second factor is incorrect');

export const missingPermission = (permission: string): AppError =>
  fail('PERMISSION_DENIED', `missing permission ${permission}`, { metadata: { permission } });

/** The caller must sign in again (a fresh session) before changing their own credentials. */
export const reauthenticationRequired = (maxAgeMs: number): AppError => {
  const seconds = Math.floor(maxAgeMs / 1000);
  return fail(
    'REAUTHENTICATION_REQUIRED',
    `changing your own password or second factor needs a session started in the last ${seconds} s; sign in again and retry`,
    { metadata: { max_session_age_seconds: String(seconds) } },
  );
};

/** The caller has a second factor: only a session completed with it may change their credentials. */
export const stepUpRequired = (): AppError =>
  fail(
    'STEP_UP_REQUIRED',
    'changing your own password or second factor needs a session completed with your second factor (AAL2); sign in with it and retry',
    { metadata: { required_assurance_level: 'AAL2' } },
  );
