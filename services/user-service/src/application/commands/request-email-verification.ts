import { type Access, type UseCase, requireDeps } from '@warden/bus';
import { CODE_TTL_MS } from '../../domain/one-time-code.js';
import { parseUserId } from '../../domain/user-id.js';
import { accountDisabled, emailAlreadyVerified, userNotFound } from '../../errors.js';
import type { Clock, OneTimeCodes, OneTimeCodeStore, UserRepository } from '../ports.js';

export interface RequestEmailVerification {
  userId: string;
}

/** The code goes to the caller only: it is never logged, stored (but as a hash) or published. */
export interface IssuedCode {
  code: string;
  expireTime: Date;
}

/** For the notifier services: a 24 h code replacing any earlier one. */
export class RequestEmailVerificationHandler implements UseCase<
  RequestEmailVerification,
  IssuedCode
> {
  readonly name = 'RequestEmailVerification';
  readonly access: Access<RequestEmailVerification>;

  constructor(
    private readonly deps: {
      users: UserRepository;
      codeStore: OneTimeCodeStore;
      codes: OneTimeCodes;
      clock: Clock;
      /** auth.notifier_services */
      notifiers: readonly string[];
    },
  ) {
    requireDeps('RequestEmailVerificationHandler', deps);
    this.access = { kind: 'services', names: deps.notifiers };
  }

  async execute(cmd: RequestEmailVerification): Promise<IssuedCode> {
    const { users, codeStore, codes, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    const user = await users.get(id);
    if (!user) throw userNotFound(id);
    if (user.emailVerified) throw emailAlreadyVerified();
    if (user.status === 'DISABLED') throw accountDisabled();
    const now = clock.now();
    const expireTime = new Date(now.getTime() + CODE_TTL_MS.EMAIL_VERIFICATION);
    const { code, codeHash } = codes.issue();
    // Deleted in between: the store finds no user.
    if (
      !(await codeStore.issue({ userId: id }, 'EMAIL_VERIFICATION', { codeHash, expireTime }, now))
    )
      throw userNotFound(id);
    return { code, expireTime };
  }
}
