import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { enrollTotp } from '../../domain/totp-factor.js';
import { parseUserId } from '../../domain/user-id.js';
import type { Clock, TotpAlgorithm, TotpFactorRepository } from '../ports.js';
import { onUser } from '../user-access.js';

export interface EnrollTotp {
  userId: string;
}

export interface TotpEnrolment {
  /** Base32; shown only in this answer. */
  secret: string;
  otpauthUri: string;
}

/** Starts TOTP enrolment: a new secret, pending until ConfirmTotp; a pending one is replaced. */
export class EnrollTotpHandler implements UseCase<EnrollTotp, TotpEnrolment> {
  readonly name = 'EnrollTotp';
  readonly access = onUser<EnrollTotp>('user.manage_mfa');

  constructor(
    private readonly deps: { factors: TotpFactorRepository; totp: TotpAlgorithm; clock: Clock },
  ) {
    requireDeps('EnrollTotpHandler', deps);
  }

  async execute(cmd: EnrollTotp, ctx: CallContext): Promise<TotpEnrolment> {
    const { factors, totp, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const secret = totp.newSecret();
    const account = await factors.update(
      id,
      (holder, current) => ({
        ...enrollTotp(holder, current, secret, clock.now()),
        result: holder.email,
      }),
      ctx.traceparent,
    );
    return { secret, otpauthUri: totp.uri(secret, account) };
  }
}
