/**
 * One-time codes handed to a notifier (email verification, password reset). Only a code's hash is
 * kept; a user has at most one code per purpose, and a new one replaces the old.
 */
export type CodePurpose = 'EMAIL_VERIFICATION' | 'PASSWORD_RESET';

export const CODE_TTL_MS: Record<CodePurpose, number> = {
  EMAIL_VERIFICATION: 24 * 60 * 60_000,
  PASSWORD_RESET: 30 * 60_000,
};

/** Wrong codes a code survives: the fifth wrong one burns it. */
export const MAX_CODE_ATTEMPTS = 5;

/** A stored code: its hash, when it lapses, and the wrong attempts made on it so far. */
export interface StoredCode {
  readonly codeHash: Uint8Array;
  readonly expireTime: Date;
  readonly attempts: number;
}

/**
 * What a presented code does to the stored one:
 * - MATCH: the code is used up (deleted) and its effect applies;
 * - WRONG: one more attempt is counted, or the code is burnt (deleted) at the limit;
 * - EXPIRED: the code is deleted (it could never work again);
 * - ABSENT: there is no code.
 */
export type CodeVerdict =
  | { kind: 'MATCH' }
  | { kind: 'WRONG'; burn: boolean; attempts: number }
  | { kind: 'EXPIRED' }
  | { kind: 'ABSENT' };

export function judgeCode(
  stored: StoredCode | undefined,
  presentedMatches: (codeHash: Uint8Array) => boolean,
  now: Date,
): CodeVerdict {
  if (!stored) return { kind: 'ABSENT' };
  if (stored.expireTime.getTime() <= now.getTime()) return { kind: 'EXPIRED' };
  if (presentedMatches(stored.codeHash)) return { kind: 'MATCH' };
  const attempts = stored.attempts + 1;
  return { kind: 'WRONG', burn: attempts >= MAX_CODE_ATTEMPTS, attempts };
}

/** Issued codes are 43 characters; a presented one much longer is refused before hashing. */
export const MAX_CODE_LENGTH = 128;
