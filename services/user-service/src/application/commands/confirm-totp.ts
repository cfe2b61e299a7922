import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { confirmTotp, RECOVERY_CODE_COUNT } from '../../domain/totp-factor.js';
import { parseUserId } from '../../domain/user-id.js';
import type { Clock, RecoveryCodes, TotpAlgorithm, TotpFactorRepository } from '../ports.js';
import { requirePrivilegedSession, type PrivilegedSessionPolicy } from '../privileged-session.js';
import { onUser } from '../user-access.js';
import { compactCode, requireWellFormed, totpCodeProblem } from './totp-codes.js';

export interface ConfirmTotp {
  userId: string;
  code: string;
}

/**
 * Confirms a pending enrolment with a current code: the second factor is on, and the recovery
 * codes are returned this once (only their hashes are kept). The user confirming their own needs a
 * privileged session (recent; AAL2 once MFA is on). Its mfa_enabled event ends the user's AAL1
 * sessions (session-service), but the caller's own session when the user confirms their own.
 */
export class ConfirmTotpHandler implements UseCase<ConfirmTotp, string[]> {
  readonly name = 'ConfirmTotp';
  readonly access = onUser<ConfirmTotp>('user.manage_mfa');

  constructor(
    private readonly deps: {
      factors: TotpFactorRepository;
      totp: TotpAlgorithm;
      recoveryCodes: RecoveryCodes;
      clock: Clock;
      privileged: PrivilegedSessionPolicy;
    },
  ) {
    requireDeps('ConfirmTotpHandler', deps);
  }

  async execute(cmd: ConfirmTotp, ctx: CallContext): Promise<string[]> {
    const { factors, totp, recoveryCodes, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const code = compactCode(cmd.code);
    requireWellFormed('code', totpCodeProblem(code));
    const { codes, hashes } = recoveryCodes.issue(RECOVERY_CODE_COUNT);
    // The confirming session just proved the code: it stays (at AAL1) when it is the user's own.
    const exceptSessionId = ctx.user?.userId === id ? ctx.user.sessionId : '';
    await factors.update(
      id,
      (holder, current) => {
        const now = clock.now();
        requirePrivilegedSession(ctx, id, holder.mfaEnabled, now, this.deps.privileged);
        const step = current ? totp.match(current.secret, code, now) : undefined;
        return confirmTotp(holder, current, step, hashes, exceptSessionId, now);
      },
      ctx.traceparent,
    );
    return codes;
  }
}
