import { requireDeps } from '@warden/bus';
import { accountLocked, invalidCredentials } from '../errors.js';
import type { FailureSlot, LockoutPolicy } from '../domain/login-failures.js';
import type { User } from '../domain/user.js';
import type {
  Clock,
  HashingLimiter,
  LockoutCounter,
  LoginFailureStore,
  PasswordHasher,
  SignInLookup,
  UserRepository,
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
      /** The slot and the account in one step, for {@link signIn}. */
      signIns: SignInLookup;
    },
  ) {
    requireDeps('CredentialGuard', deps);
  }

  /** Throws ACCOUNT_LOCKED or INVALID_CREDENTIALS; a success forgets earlier failures. */
  check(email: string, password: string, passwordHash: string | undefined): Promise<void> {
    return this.deps.limiter.run(() => this.checkAdmitted(email, password, passwordHash));
  }

  /**
   * A sign-in by email (VerifyCredentials): the account is read with the slot taken, in one step,
   * then the password is checked as {@link check} does. Returns the account whose password it is.
   */
  signIn(email: string, password: string): Promise<User> {
    return this.deps.limiter.run(async () => {
      const { slot, user } = await this.deps.signIns.takeSlotAndFind(
        email,
        this.deps.clock.now(),
        this.deps.policy,
      );
      await this.verifyInSlot(slot, email, password, user?.passwordHash);
      // verify() is false without a hash, so a missing account failed above; this is for the types.
      if (!user) throw invalidCredentials();
      return user;
    });
  }

  private async checkAdmitted(
    email: string,
    password: string,
    passwordHash: string | undefined,
  ): Promise<void> {
    const { failures, clock, policy } = this.deps;
    // The slot is taken before argon2 runs: concurrent guesses past the limit never reach it.
    const slot = await failures.takeSlot(email, clock.now(), policy);
    await this.verifyInSlot(slot, email, password, passwordHash);
  }

  private async verifyInSlot(
    slot: FailureSlot,
    email: string,
    password: string,
    passwordHash: string | undefined,
  ): Promise<void> {
    if (!slot.taken) {
      this.deps.lockouts.refused();
      const now = this.deps.clock.now().getTime();
      throw accountLocked(Math.max(0, slot.lockedUntilTime.getTime() - now));
    }
    if (!(await this.deps.hasher.verify(password, passwordHash))) throw invalidCredentials();
    await this.deps.failures.clear(email);
  }
}

/** The slot, then the lookup: the two stores' own calls, where they cannot be joined (memory). */
export const composedSignInLookup = (
  failures: LoginFailureStore,
  users: Pick<UserRepository, 'findByEmail'>,
): SignInLookup => ({
  async takeSlotAndFind(email, now, policy) {
    const slot = await failures.takeSlot(email, now, policy);
    return { slot, user: slot.taken ? await users.findByEmail(email) : undefined };
  },
});
