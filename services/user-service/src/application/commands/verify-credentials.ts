import { type Access, type UseCase, requireDeps } from '@warden/bus';
import { Violations } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import { isImplausiblePassword } from '../../domain/password-policy.js';
import type { UserStatus } from '../../domain/user.js';
import { invalidCredentials } from '../../errors.js';
import type { CredentialGuard } from '../credential-guard.js';
import type { UserRepository } from '../ports.js';

export interface VerifyCredentials {
  email: string;
  password: string;
}

export interface VerifiedCredentials {
  userId: string;
  status: UserStatus;
}

/** Internal, for session-service sign-in: correct credentials verify whatever the account status. */
export class VerifyCredentialsHandler implements UseCase<VerifyCredentials, VerifiedCredentials> {
  readonly name = 'VerifyCredentials';
  readonly access: Access<VerifyCredentials> = { kind: 'services', names: ['session-service'] };

  constructor(private readonly deps: { users: UserRepository; guard: CredentialGuard }) {
    requireDeps('VerifyCredentialsHandler', deps);
  }

  async execute(cmd: VerifyCredentials): Promise<VerifiedCredentials> {
    const email = normalizeEmail(cmd.email);
    validate(email, cmd.password);
    const user = await this.deps.users.findByEmail(email);
    await this.deps.guard.check(email, cmd.password, user?.passwordHash);
    if (!user) throw invalidCredentials();
    return { userId: user.id, status: user.status };
  }
}

/** Only shape is checked: whether an email is registered must not show here. */
function validate(email: string, password: string): void {
  const violations = new Violations();
  if (email === '') violations.add('email', 'is required');
  else if (email.length > MAX_EMAIL_LENGTH)
    violations.add('email', `must be at most ${MAX_EMAIL_LENGTH} characters`);
  if (password === '') violations.add('password', 'is required');
  else if (isImplausiblePassword(password)) violations.add('password', 'is too long');
  violations.throwIfAny();
}
