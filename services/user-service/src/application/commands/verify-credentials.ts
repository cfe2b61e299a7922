import { type Access, type UseCase, requireDeps } from '@warden/bus';
import { Violations } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import { isImplausiblePassword } from '../../domain/password-policy.js';
import { rehashPassword, type User, type UserStatus } from '../../domain/user.js';
import type { CredentialGuard } from '../credential-guard.js';
import type { PasswordHasher, UserRepository } from '../ports.js';

export interface VerifyCredentials {
  email: string;
  password: string;
}

export interface VerifiedCredentials {
  userId: string;
  status: UserStatus;
  /** A second factor is on: the sign-in is not complete until VerifySecondFactor. */
  mfaEnabled: boolean;
}

/** Internal, for session-service sign-in: correct credentials verify whatever the account status. */
export class VerifyCredentialsHandler implements UseCase<VerifyCredentials, VerifiedCredentials> {
  readonly name = 'VerifyCredentials';
  readonly access: Access<VerifyCredentials> = { kind: 'services', names: ['session-service'] };

  constructor(
    private readonly deps: {
      users: UserRepository;
      guard: CredentialGuard;
      /** Rehashes an imported or outdated hash after a success (argon2id, current parameters). */
      hasher: PasswordHasher;
    },
  ) {
    requireDeps('VerifyCredentialsHandler', deps);
  }

  async execute(cmd: VerifyCredentials): Promise<VerifiedCredentials> {
    const email = normalizeEmail(cmd.email);
    validate(email, cmd.password);
    const user = await this.deps.guard.signIn(email, cmd.password);
    if (this.deps.hasher.needsRehash(user.passwordHash)) await this.rehash(user, cmd.password);
    return { userId: user.id, status: user.status, mfaEnabled: user.mfaEnabled };
  }

  /**
   * The password just proved is hashed again as argon2id (once: the next sign-in finds it current).
   * Best effort: if hashing is busy or the write fails, the sign-in stands and the next one retries.
   */
  private async rehash(user: User, password: string): Promise<void> {
    try {
      const passwordHash = await this.deps.hasher.hash(password);
      await this.deps.users.update(user.id, (current) =>
        rehashPassword(current, user.passwordHash, passwordHash),
      );
    } catch {
      // Deliberately ignored: see above.
    }
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
