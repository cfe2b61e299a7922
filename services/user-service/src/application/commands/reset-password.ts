import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { Violations } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import { MAX_CODE_LENGTH } from '../../domain/one-time-code.js';
import { passwordProblem } from '../../domain/password-policy.js';
import { resetPassword } from '../../domain/user.js';
import { invalidCode, passwordBreached } from '../../errors.js';
import type {
  BreachedPasswordChecker,
  Clock,
  LoginFailureStore,
  OneTimeCodes,
  OneTimeCodeStore,
  PasswordHasher,
} from '../ports.js';

export interface ResetPassword {
  email: string;
  code: string;
  newPassword: string;
}

/**
 * The code is the proof: any service identity may pass it on. Unknown email, wrong, expired, used
 * and burnt codes all answer INVALID_CODE. The new password is checked and hashed before the code
 * is touched, so a refused password leaves the code usable.
 */
export class ResetPasswordHandler implements UseCase<ResetPassword, void> {
  readonly name = 'ResetPassword';
  readonly access: Access<ResetPassword> = { kind: 'service' };

  constructor(
    private readonly deps: {
      codeStore: OneTimeCodeStore;
      codes: OneTimeCodes;
      hasher: PasswordHasher;
      breaches: BreachedPasswordChecker;
      failures: LoginFailureStore;
      clock: Clock;
    },
  ) {
    requireDeps('ResetPasswordHandler', deps);
  }

  async execute(cmd: ResetPassword, ctx: CallContext): Promise<void> {
    const { codeStore, codes, hasher, breaches, failures, clock } = this.deps;
    const email = normalizeEmail(cmd.email);
    validate(email, cmd);
    if (await breaches.isBreached(cmd.newPassword)) throw passwordBreached('new_password');
    const passwordHash = await hasher.hash(cmd.newPassword);
    const now = clock.now();
    const { verdict } = await codeStore.redeem(
      { email },
      'PASSWORD_RESET',
      codes.matcher(cmd.code),
      now,
      (user) => resetPassword(user, passwordHash, now),
      ctx.traceparent,
    );
    if (verdict.kind !== 'MATCH') throw invalidCode();
    // Whoever reads the mail may sign in again at once: the lockout of the old password goes.
    await failures.clear(email);
  }
}

function validate(email: string, cmd: ResetPassword): void {
  const violations = new Violations();
  if (email === '') violations.add('email', 'is required');
  else if (email.length > MAX_EMAIL_LENGTH)
    violations.add('email', `must be at most ${MAX_EMAIL_LENGTH} characters`);
  if (cmd.code === '') violations.add('code', 'is required');
  else if (cmd.code.length > MAX_CODE_LENGTH) violations.add('code', 'is too long');
  const onlyPassword = violations.isEmpty;
  const problem = passwordProblem(cmd.newPassword);
  if (problem) violations.add('new_password', problem);
  violations.throwIfAny(onlyPassword ? 'WEAK_PASSWORD' : 'INVALID_ARGUMENT');
}
