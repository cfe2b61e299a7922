import type { UserEvent } from './user-events.js';
import {
  invalidCode,
  invalidSecondFactor,
  mfaAlreadyEnabled,
  mfaNotEnabled,
  totpNotEnrolled,
} from '../errors.js';

/** How many recovery codes ConfirmTotp hands out (each works once). */
export const RECOVERY_CODE_COUNT = 10;

/**
 * A user's TOTP second factor (RFC 6238): pending from EnrollTotp until ConfirmTotp proves the
 * authenticator holds the secret, then confirmed (the user's `mfa_enabled`). The secret is plain
 * here; the repository adapter keeps it encrypted at rest.
 */
export interface TotpFactor {
  readonly userId: string;
  /** Base32, as the authenticator app shows it. */
  readonly secret: string;
  readonly confirmed: boolean;
  /**
   * The last time step (unix time / 30 s) a code was accepted for: a code of that step or an
   * earlier one is a replay. -1 before any.
   */
  readonly lastUsedStep: number;
  /** A hash of each unused recovery code; a used one is removed. */
  readonly recoveryCodeHashes: readonly string[];
  readonly createTime: Date;
  readonly updateTime: Date;
}

/** What the MFA use cases see of the user they act on (locked with the factor). */
export interface MfaHolder {
  readonly id: string;
  readonly email: string;
  readonly status: 'ACTIVE' | 'DISABLED';
  readonly mfaEnabled: boolean;
}

/**
 * A change to a user's factor, saved in one transaction: `factor` (undefined deletes it), the
 * user's `mfa_enabled` (and update_time) when `mfaEnabled` is given, and the events.
 */
export interface TotpChange<T> {
  factor: TotpFactor | undefined;
  mfaEnabled?: { value: boolean; time: Date };
  events: UserEvent[];
  result: T;
}

/** A presented code: the time step it matched, or undefined when it matched none. */
export type TotpMatch = number | undefined;

/** EnrollTotp: a new pending secret, replacing a pending one. Refused once a factor is on. */
export function enrollTotp(
  holder: MfaHolder,
  current: TotpFactor | undefined,
  secret: string,
  now: Date,
): TotpChange<void> {
  if (holder.mfaEnabled || current?.confirmed) throw mfaAlreadyEnabled();
  return {
    factor: {
      userId: holder.id,
      secret,
      confirmed: false,
      lastUsedStep: -1,
      recoveryCodeHashes: [],
      createTime: now,
      updateTime: now,
    },
    events: [],
    result: undefined,
  };
}

/**
 * ConfirmTotp: a current code turns the factor on, with fresh recovery codes; emits mfa_enabled,
 * which ends the user's AAL1 sessions but `exceptSessionId` (the confirming one; '' for none).
 */
export function confirmTotp(
  holder: MfaHolder,
  current: TotpFactor | undefined,
  matchedStep: TotpMatch,
  recoveryCodeHashes: readonly string[],
  exceptSessionId: string,
  now: Date,
): TotpChange<void> {
  if (holder.mfaEnabled || current?.confirmed) throw mfaAlreadyEnabled();
  if (!current) throw totpNotEnrolled();
  if (matchedStep === undefined) throw invalidCode();
  return {
    factor: {
      ...current,
      confirmed: true,
      lastUsedStep: matchedStep,
      recoveryCodeHashes: [...recoveryCodeHashes],
      updateTime: now,
    },
    mfaEnabled: { value: true, time: now },
    events: [{ type: 'mfa_enabled', userId: holder.id, exceptSessionId, occurTime: now }],
    result: undefined,
  };
}

/** The second factor a sign-in (or RemoveTotp) presents, already matched against the factor. */
export type PresentedFactor =
  { kind: 'TOTP'; matchedStep: TotpMatch } | { kind: 'RECOVERY_CODE'; codeHash: string };

/**
 * Checks a presented factor against a confirmed one and spends it: a TOTP code's step becomes the
 * last used one (the same or an earlier step again is a replay), a recovery code is removed.
 * Throws `refuse()` for a wrong, replayed or spent code. Returns the recovery codes left.
 */
export function spendFactor(
  holder: MfaHolder,
  current: TotpFactor | undefined,
  presented: PresentedFactor,
  now: Date,
  refuse: () => Error = invalidSecondFactor,
): TotpChange<number> {
  if (!holder.mfaEnabled || !current?.confirmed) throw mfaNotEnabled();
  let factor: TotpFactor;
  if (presented.kind === 'TOTP') {
    const step = presented.matchedStep;
    if (step === undefined || step <= current.lastUsedStep) throw refuse();
    factor = { ...current, lastUsedStep: step, updateTime: now };
  } else {
    const left = current.recoveryCodeHashes.filter((hash) => hash !== presented.codeHash);
    if (left.length === current.recoveryCodeHashes.length) throw refuse();
    factor = { ...current, recoveryCodeHashes: left, updateTime: now };
  }
  return { factor, events: [], result: factor.recoveryCodeHashes.length };
}

/**
 * RemoveTotp: the factor (confirmed or pending) and its recovery codes go; emits mfa_disabled when
 * one was on. `presented`, when the user removes their own, must be a valid unspent factor.
 */
export function removeTotp(
  holder: MfaHolder,
  current: TotpFactor | undefined,
  presented: PresentedFactor | undefined,
  now: Date,
): TotpChange<void> {
  const enabled = holder.mfaEnabled || current?.confirmed === true;
  if (presented && enabled) spendFactor(holder, current, presented, now, invalidCode);
  if (!enabled) return { factor: undefined, events: [], result: undefined };
  return {
    factor: undefined,
    mfaEnabled: { value: false, time: now },
    events: [{ type: 'mfa_disabled', userId: holder.id, occurTime: now }],
    result: undefined,
  };
}
