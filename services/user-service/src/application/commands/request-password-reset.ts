import { type Access, type UseCase, requireDeps } from '@warden/bus';
import { Violations } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import { CODE_TTL_MS } from '../../domain/one-time-code.js';
import type { Clock, OneTimeCodes, OneTimeCodeStore } from '../ports.js';
import type { IssuedCode } from './request-email-verification.js';

export interface RequestPasswordReset {
  email: string;
}

/**
 * For the notifier services: a 30 min code for the active user with this email. An unknown (or
 * disabled) email does the same work - a code made and hashed, the same one statement - and answers
 * alike with an empty code, so neither the answer nor its time tells whether the email is known.
 */
export class RequestPasswordResetHandler implements UseCase<RequestPasswordReset, IssuedCode> {
  readonly name = 'RequestPasswordReset';
  readonly access: Access<RequestPasswordReset>;

  constructor(
    private readonly deps: {
      codeStore: OneTimeCodeStore;
      codes: OneTimeCodes;
      clock: Clock;
      /** auth.notifier_services */
      notifiers: readonly string[];
    },
  ) {
    requireDeps('RequestPasswordResetHandler', deps);
    this.access = { kind: 'services', names: deps.notifiers };
  }

  async execute(cmd: RequestPasswordReset): Promise<IssuedCode> {
    const { codeStore, codes, clock } = this.deps;
    const email = normalizeEmail(cmd.email);
    const violations = new Violations();
    if (email === '') violations.add('email', 'is required');
    else if (email.length > MAX_EMAIL_LENGTH)
      violations.add('email', `must be at most ${MAX_EMAIL_LENGTH} characters`);
    violations.throwIfAny();
    const now = clock.now();
    const expireTime = new Date(now.getTime() + CODE_TTL_MS.PASSWORD_RESET);
    const { code, codeHash } = codes.issue();
    const stored = await codeStore.issue(
      { email },
      'PASSWORD_RESET',
      { codeHash, expireTime },
      now,
    );
    return { code: stored ? code : '', expireTime };
  }
}
