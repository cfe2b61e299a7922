import { requireDeps } from '@warden/bus';
import { accountLocked, invalidCredentials } from '../errors.js';
import type { LockoutPolicy } from '../domain/login-failures.js';
import type {
  Clock,
  HashingLimiter,
  LockoutCounter,
  LoginFailureStore,
  PasswordHasher,
} from './ports.js';

/**
 * Checks a password for an email with lockout: used by VerifyCredentials and ChangePassword.
 * Unknown emails are verified against a dummy hash and counted like known ones, so neither the
 * time taken nor the lockout tells whether an account exists.
 */
export class CredentialGuard {
  constructor(
    private readonly deps: {
      failures: LoginFailureStore;
      hasher: PasswordHasher;
      clock: Clock;
      policy: LockoutPolicy;
      /** Admission for the whole check, so a refused one takes no failure slot. */
      limiter: HashingLimiter;
      lockouts: LockoutCounter;
    },
  ) {
    requireDeps('CredentialGuard', deps);
  }

  /** Throws ACCOUNT_LOCKED or INVALID_CREDENTIALS; a success forgets earlier failures. */
  check(email: string, password: string, passwordHash: string | undefined): Promise<void> {
    return this.deps.limiter.run(() => this.checkAdmitted(email, password, passwordHash));
  }

  private async checkAdmitted(
    email: string,
    password: string,
    passwordHash: string | undefined,
  ): Promise<void> {
    const { failures, hasher, clock, policy } = this.deps;
    // The slot is taken before argon2 runs: concurrent guesses past the limit never reach it.
    const slot = await failures.takeSlot(email, clock.now(), policy);
    if (!slot.taken) {
      this.deps.lockouts.refused();
      throw accountLocked(Math.max(0, slot.lockedUntilTime.getTime() - clock.now().getTime()));
    }
    if (!(await hasher.verify(password, passwordHash))) throw invalidCredentials();
    await failures.clear(email);
  }
}
