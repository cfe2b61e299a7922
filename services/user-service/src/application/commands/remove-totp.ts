import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import type { LockoutPolicy } from '../../domain/login-failures.js';
import { removeTotp } from '../../domain/totp-factor.js';
import { parseUserId } from '../../domain/user-id.js';
import { invalidCode } from '../../errors.js';
import type {
  Clock,
  LockoutCounter,
  LoginFailureStore,
  RecoveryCodes,
  TotpAlgorithm,
  TotpFactorRepository,
} from '../ports.js';
import { onUser } from '../user-access.js';
import {
  compactCode,
  isTotpCode,
  presentFactor,
  recoveryCodeProblem,
  requireWellFormed,
} from './totp-codes.js';
import { secondFactorFailuresKey, takeLockoutSlot } from './verify-second-factor.js';

export interface RemoveTotp {
  userId: string;
  /** A current TOTP code or an unused recovery code; required when the user removes their own. */
  code: string;
}

/**
 * Turns the second factor off (the secret and the recovery codes go). The user removing their own
 * proves it with a code, so a stolen session alone cannot; an administrator acting on another
 * user needs none (the permission decides). A presented code takes a slot of the user's
 * second-factor lockout window, as at sign-in, so the code cannot be guessed with the session.
 */
export class RemoveTotpHandler implements UseCase<RemoveTotp, void> {
  readonly name = 'RemoveTotp';
  readonly access = onUser<RemoveTotp>('user.remove_mfa');

  constructor(
    private readonly deps: {
      factors: TotpFactorRepository;
      totp: TotpAlgorithm;
      recoveryCodes: RecoveryCodes;
      failures: LoginFailureStore;
      policy: LockoutPolicy;
      lockouts: LockoutCounter;
      clock: Clock;
    },
  ) {
    requireDeps('RemoveTotpHandler', deps);
  }

  async execute(cmd: RemoveTotp, ctx: CallContext): Promise<void> {
    const { factors, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const code = compactCode(cmd.code);
    const own = ctx.user?.userId === id;
    if (own && code === '') throw invalidCode();
    if (code !== '' && !isTotpCode(code)) requireWellFormed('code', recoveryCodeProblem(code));
    const failuresKey = secondFactorFailuresKey(id);
    if (code !== '') await takeLockoutSlot(this.deps, failuresKey);
    await factors.update(
      id,
      (holder, current) => {
        const now = clock.now();
        const presented =
          code === ''
            ? undefined
            : presentFactor(
                { kind: isTotpCode(code) ? 'TOTP' : 'RECOVERY_CODE', value: code },
                current?.secret,
                this.deps,
                now,
              );
        return removeTotp(holder, current, presented, now);
      },
      ctx.traceparent,
    );
    if (code !== '') await this.deps.failures.clear(failuresKey);
  }
}
