import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { Violations } from '@warden/errors';
import { passwordProblem } from '../../domain/password-policy.js';
import { changePassword } from '../../domain/user.js';
import { accountDisabled, passwordBreached, userNotFound } from '../../errors.js';
import { parseUserId } from '../../domain/user-id.js';
import type { CredentialGuard } from '../credential-guard.js';
import type { BreachedPasswordChecker, Clock, PasswordHasher, UserRepository } from '../ports.js';
import { requirePrivilegedSession, type PrivilegedSessionPolicy } from '../privileged-session.js';
import { onUser } from '../user-access.js';

export interface ChangePassword {
  userId: string;
  currentPassword: string;
  newPassword: string;
}

/**
 * Replaces a password after checking the current one. The user changing their own needs a
 * privileged session (recent; AAL2 once MFA is on), asked before the password is tested.
 */
export class ChangePasswordHandler implements UseCase<ChangePassword, void> {
  readonly name = 'ChangePassword';
  readonly access = onUser<ChangePassword>('user.change_password');

  constructor(
    private readonly deps: {
      users: UserRepository;
      guard: CredentialGuard;
      hasher: PasswordHasher;
      breaches: BreachedPasswordChecker;
      clock: Clock;
      privileged: PrivilegedSessionPolicy;
    },
  ) {
    requireDeps('ChangePasswordHandler', deps);
  }

  async execute(cmd: ChangePassword, ctx: CallContext): Promise<void> {
    const { users, guard, hasher, breaches, clock } = this.deps;
    const id = parseUserId(cmd.userId);
    validate(cmd);
    const user = await users.get(id);
    if (!user) throw userNotFound(id);
    requirePrivilegedSession(ctx, id, user.mfaEnabled, clock.now(), this.deps.privileged);
    await guard.check(user.email, cmd.currentPassword, user.passwordHash);
    if (user.status === 'DISABLED') throw accountDisabled();
    if (await breaches.isBreached(cmd.newPassword)) throw passwordBreached('new_password');
    const passwordHash = await hasher.hash(cmd.newPassword);
    // The caller's own session survives only when the user changes their own password.
    const exceptSessionId = ctx.user?.userId === id ? ctx.user.sessionId : '';
    await users.update(
      id,
      (current) => changePassword(current, passwordHash, exceptSessionId, clock.now()),
      ctx.traceparent,
    );
  }
}

function validate(cmd: ChangePassword): void {
  const violations = new Violations();
  if (cmd.currentPassword === '') violations.add('current_password', 'is required');
  const problem = passwordProblem(cmd.newPassword);
  if (problem) violations.add('new_password', problem);
  violations.throwIfAny(
    problem && cmd.currentPassword !== '' ? 'WEAK_PASSWORD' : 'INVALID_ARGUMENT',
  );
}
