import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { enrollTotp } from '../../domain/totp-factor.js';
import { parseUserId } from '../../domain/user-id.js';
import type { Clock, TotpAlgorithm, TotpFactorRepository } from '../ports.js';
import { requirePrivilegedSession, type PrivilegedSessionPolicy } from '../privileged-session.js';
import { onUser } from '../user-access.js';

export interface EnrollTotp {
  userId: string;
}

export interface TotpEnrolment {
  /** Base32; shown only in this answer. */
  secret: string;
  otpauthUri: string;
}

/**
 * Starts TOTP enrolment: a new secret, pending until ConfirmTotp; a pending one is replaced. The
 * user enrolling their own needs a privileged session (recent; AAL2 once MFA is on).
 */
export class EnrollTotpHandler implements UseCase<EnrollTotp, TotpEnrolment> {
  readonly name = 'EnrollTotp';
  readonly access = onUser<EnrollTotp>('user.manage_mfa');

  constructor(
    private readonly deps: {
      factors: TotpFactorRepository;
      totp: TotpAlgorithm;
      clock: Clock;
      privileged: PrivilegedSessionPolicy;
    },
  ) {
    requireDeps('EnrollTotpHandler', deps);
  }

  async execute(cmd: EnrollTotp, ctx: CallContext): Promise<TotpEnrolment> {
    const { factors, totp, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const secret = totp.newSecret();
    const account = await factors.update(
      id,
      (holder, current) => {
        const now = clock.now();
        requirePrivilegedSession(ctx, id, holder.mfaEnabled, now, this.deps.privileged);
        return { ...enrollTotp(holder, current, secret, now), result: holder.email };
      },
      ctx.traceparent,
    );
    return { secret, otpauthUri: totp.uri(secret, account) };
  }
}
