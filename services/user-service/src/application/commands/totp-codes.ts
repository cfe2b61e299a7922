import { Violations } from '@warden/errors';
import type { PresentedFactor } from '../../domain/totp-factor.js';
import type { RecoveryCodes, TotpAlgorithm } from '../ports.js';

const TOTP_CODE = /^\d{6}$/;
/** Longer than any code we issue, short enough to refuse junk before hashing it. */
const MAX_RECOVERY_CODE_LENGTH = 64;

export const isTotpCode = (code: string): boolean => TOTP_CODE.test(code);

/** A TOTP code field: exactly 6 digits (spaces an app shows between groups are dropped). */
export function totpCodeProblem(code: string): string | undefined {
  if (code === '') return 'is required';
  if (!isTotpCode(code)) return 'must be the 6 digits the authenticator app shows';
  return undefined;
}

export function recoveryCodeProblem(code: string): string | undefined {
  if (code === '') return 'is required';
  if (code.length > MAX_RECOVERY_CODE_LENGTH)
    return `must be at most ${MAX_RECOVERY_CODE_LENGTH} characters`;
  return undefined;
}

/** Spaces people type inside a code ("123 456") are not part of it. */
export const compactCode = (code: string): string => code.replace(/\s+/g, '');

/** Throws INVALID_ARGUMENT with a violation on `field` when the code is malformed. */
export function requireWellFormed(field: string, problem: string | undefined): void {
  const violations = new Violations();
  if (problem) violations.add(field, problem);
  violations.throwIfAny();
}

/** A presented code matched against a factor's secret: the TOTP step, or the recovery code hash. */
export function presentFactor(
  code: { kind: 'TOTP' | 'RECOVERY_CODE'; value: string },
  secret: string | undefined,
  deps: { totp: TotpAlgorithm; recoveryCodes: RecoveryCodes },
  now: Date,
): PresentedFactor {
  if (code.kind === 'RECOVERY_CODE')
    return { kind: 'RECOVERY_CODE', codeHash: deps.recoveryCodes.hashOf(code.value) };
  return {
    kind: 'TOTP',
    matchedStep: secret === undefined ? undefined : deps.totp.match(secret, code.value, now),
  };
}
