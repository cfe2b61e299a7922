import type { CallContext } from '@warden/bus';
import { AppError } from '@warden/errors';
import type {
  CredentialsVerifier,
  PresentedSecondFactor,
  SecondFactorVerifier,
  UserStatus,
} from '../../src/application/ports.js';

interface Account {
  userId: string;
  password: string;
  status: UserStatus;
  failures: number;
  /** With MFA on: the codes that still work (each once), as user-service spends them. */
  codes?: Set<string>;
}

/**
 * user-service's VerifyCredentials as far as session-service can tell: accounts by email, the
 * same error for unknown email and wrong password, lockout after `maxFailures`.
 */
export class FakeCredentialsVerifier implements CredentialsVerifier {
  private readonly accounts = new Map<string, Account>();
  readonly calls: Array<{ email: string; ctx: CallContext }> = [];
  /** Makes every call fail as if user-service were down. */
  unavailable = false;

  constructor(private readonly maxFailures = 5) {}

  addUser(email: string, password: string, userId: string, status: UserStatus = 'ACTIVE'): this {
    this.accounts.set(email, { userId, password, status, failures: 0 });
    return this;
  }

  /** Turns MFA on for the account: each of `codes` (TOTP or recovery) verifies once. */
  enableMfa(email: string, ...codes: string[]): this {
    const account = this.accounts.get(email);
    if (account) account.codes = new Set(codes);
    return this;
  }

  /** Turns MFA off for the account (RemoveTotp). */
  disableMfa(email: string): this {
    const account = this.accounts.get(email);
    if (account) delete account.codes;
    return this;
  }

  setStatus(email: string, status: UserStatus): void {
    const account = this.accounts.get(email);
    if (account) account.status = status;
  }

  async verify(
    email: string,
    password: string,
    ctx: CallContext,
  ): Promise<{ userId: string; status: UserStatus; mfaEnabled: boolean }> {
    this.calls.push({ email, ctx });
    if (this.unavailable)
      throw new AppError('UNAVAILABLE', 'UNAVAILABLE', 'user-service is unavailable');
    const account = this.accounts.get(email);
    if (account && account.failures >= this.maxFailures) {
      throw new AppError(
        'RESOURCE_EXHAUSTED',
        'ACCOUNT_LOCKED',
        'too many failed sign-ins; try later',
      );
    }
    if (!account || account.password !== password) {
      if (account) account.failures++;
      throw new AppError('UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'wrong email or password');
    }
    account.failures = 0;
    return { userId: account.userId, status: account.status, mfaEnabled: !!account.codes };
  }

  /** user-service's VerifySecondFactor as session-service sees it, over the same accounts. */
  readonly secondFactors: SecondFactorVerifier & {
    calls: Array<{ userId: string; factor: PresentedSecondFactor }>;
  } = {
    calls: [],
    verify: async (userId, factor) => {
      this.secondFactors.calls.push({ userId, factor });
      if (this.unavailable)
        throw new AppError(
          'UNAVAILABLE',
          'USER_SERVICE_UNAVAILABLE',
          'user-service is unavailable',
        );
      const account = [...this.accounts.values()].find((a) => a.userId === userId);
      if (!account?.codes?.delete(factor.code))
        throw new AppError(
          'UNAUTHENTICATED',
          'INVALID_SECOND_FACTOR',
          'the second factor is incorrect',
        );
    },
  };
}
