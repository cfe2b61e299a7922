import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import type { LockoutPolicy } from '../../domain/login-failures.js';
import { spendFactor } from '../../domain/totp-factor.js';
import { parseUserId } from '../../domain/user-id.js';
import { invalidArgument } from '@warden/errors';
import { accountDisabled, accountLocked, userNotFound } from '../../errors.js';
import type {
  Clock,
  LockoutCounter,
  LoginFailureStore,
  RecoveryCodes,
  TotpAlgorithm,
  TotpFactorRepository,
  UserRepository,
} from '../ports.js';
import {
  compactCode,
  presentFactor,
  recoveryCodeProblem,
  requireWellFormed,
  totpCodeProblem,
} from './totp-codes.js';

export interface VerifySecondFactor {
  userId: string;
  factor: { kind: 'TOTP' | 'RECOVERY_CODE'; code: string } | undefined;
}

export interface VerifiedSecondFactor {
  kind: 'TOTP' | 'RECOVERY_CODE';
  recoveryCodesLeft: number;
}

/**
 * Internal, for session-service's CompleteMfa: checks and spends a second factor. A TOTP code is
 * accepted once (its time step is remembered: the same code again is a replay), a recovery code
 * once. Every attempt takes a slot of the email's lockout window, like a password check, so
 * guessing codes locks the account as guessing passwords does, and one of a second-factor window
 * that a right password does not clear; a success clears both.
 */
export class VerifySecondFactorHandler implements UseCase<
  VerifySecondFactor,
  VerifiedSecondFactor
> {
  readonly name = 'VerifySecondFactor';
  readonly access: Access<VerifySecondFactor> = { kind: 'services', names: ['session-service'] };

  constructor(
    private readonly deps: {
      users: UserRepository;
      factors: TotpFactorRepository;
      totp: TotpAlgorithm;
      recoveryCodes: RecoveryCodes;
      failures: LoginFailureStore;
      policy: LockoutPolicy;
      lockouts: LockoutCounter;
      clock: Clock;
    },
  ) {
    requireDeps('VerifySecondFactorHandler', deps);
  }

  async execute(cmd: VerifySecondFactor, ctx: CallContext): Promise<VerifiedSecondFactor> {
    const { users, factors, failures, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const factor = validate(cmd);
    const user = await users.get(id);
    if (!user) throw userNotFound(id);
    // Two windows: the email's (the account lockout, which a right password clears) and the
    // second factor's own, which only a right second factor clears; without it, a right password
    // between guesses (each StartSession) reopened the window and codes could be guessed forever.
    await takeLockoutSlot(this.deps, secondFactorFailuresKey(user.id));
    await takeLockoutSlot(this.deps, user.email);
    const recoveryCodesLeft = await factors.update(
      id,
      (holder, current) => {
        // A disabled user signs in to nothing: the right code must not make a session either.
        if (holder.status === 'DISABLED') throw accountDisabled();
        const now = clock.now();
        const presented = presentFactor(
          { kind: factor.kind, value: factor.code },
          current?.secret,
          this.deps,
          now,
        );
        return spendFactor(holder, current, presented, now);
      },
      ctx.traceparent,
    );
    await failures.clear(secondFactorFailuresKey(user.id));
    await failures.clear(user.email);
    return { kind: factor.kind, recoveryCodesLeft };
  }
}

/** The login_failures key of a user's second-factor guesses (never an email: no '@'). */
export const secondFactorFailuresKey = (userId: string): string => `second-factor:${userId}`;

/** Takes a slot of `key`'s lockout window; ACCOUNT_LOCKED (and counted) when the window is full. */
export async function takeLockoutSlot(
  deps: {
    failures: LoginFailureStore;
    policy: LockoutPolicy;
    lockouts: LockoutCounter;
    clock: Clock;
  },
  key: string,
): Promise<void> {
  const { failures, policy, lockouts, clock } = deps;
  const slot = await failures.takeSlot(key, clock.now(), policy);
  if (slot.taken) return;
  lockouts.refused();
  throw accountLocked(Math.max(0, slot.lockedUntilTime.getTime() - clock.now().getTime()));
}

function validate(cmd: VerifySecondFactor): { kind: 'TOTP' | 'RECOVERY_CODE'; code: string } {
  if (!cmd.factor)
    throw invalidArgument([
      { field: 'factor', description: 'totp_code or recovery_code is required' },
    ]);
  const code = compactCode(cmd.factor.code);
  if (cmd.factor.kind === 'TOTP') requireWellFormed('totp_code', totpCodeProblem(code));
  else requireWellFormed('recovery_code', recoveryCodeProblem(code));
  return { kind: cmd.factor.kind, code };
}
