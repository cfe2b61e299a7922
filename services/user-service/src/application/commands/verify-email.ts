import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { Violations } from '@warden/errors';
import { parseUserId } from '../../domain/user-id.js';
import { toView, verifyEmail, type UserView } from '../../domain/user.js';
import { codeExpired, invalidCode, userNotFound } from '../../errors.js';
import type { Clock, OneTimeCodes, OneTimeCodeStore } from '../ports.js';
import { MAX_CODE_LENGTH } from '../../domain/one-time-code.js';

export interface VerifyEmail {
  userId: string;
  code: string;
}

/** The code is the proof: any service identity may pass it on (a link the user clicked). */
export class VerifyEmailHandler implements UseCase<VerifyEmail, UserView> {
  readonly name = 'VerifyEmail';
  readonly access: Access<VerifyEmail> = { kind: 'service' };

  constructor(
    private readonly deps: { codeStore: OneTimeCodeStore; codes: OneTimeCodes; clock: Clock },
  ) {
    requireDeps('VerifyEmailHandler', deps);
  }

  async execute(cmd: VerifyEmail, ctx: CallContext): Promise<UserView> {
    const { codeStore, codes, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const violations = new Violations();
    if (cmd.code === '') violations.add('code', 'is required');
    else if (cmd.code.length > MAX_CODE_LENGTH) violations.add('code', 'is too long');
    violations.throwIfAny();
    const now = clock.now();
    const { verdict, user } = await codeStore.redeem(
      { userId: id },
      'EMAIL_VERIFICATION',
      codes.matcher(cmd.code),
      now,
      (current) => verifyEmail(current, now),
      ctx.traceparent,
    );
    if (!user) throw userNotFound(id);
    switch (verdict.kind) {
      case 'MATCH':
        return toView(user);
      case 'EXPIRED':
        throw codeExpired();
      case 'ABSENT':
        // Verified already (the code went with it): the user, unchanged, with no event.
        if (user.emailVerified) return toView(user);
        throw invalidCode();
      case 'WRONG':
        throw invalidCode();
    }
  }
}
