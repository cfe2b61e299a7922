import type { TotpFactorRepository } from '../../application/ports.js';
import type { MfaHolder, TotpChange, TotpFactor } from '../../domain/totp-factor.js';
import type { MemoryUserRepository } from './memory-user-repository.js';

/**
 * In-memory twin of PrismaTotpFactorRepository: the user, `mfa_enabled` and the events go through
 * the memory user repository's update, so they change together or not at all.
 */
export class MemoryTotpFactorRepository implements TotpFactorRepository {
  readonly factors = new Map<string, TotpFactor>();

  constructor(private readonly users: MemoryUserRepository) {}

  async update<T>(
    userId: string,
    decide: (holder: MfaHolder, factor: TotpFactor | undefined) => TotpChange<T>,
    traceparent?: string,
  ): Promise<T> {
    let result: T | undefined;
    await this.users.update(
      userId,
      (user) => {
        const change = decide(user, this.factors.get(userId));
        if (change.factor) this.factors.set(userId, change.factor);
        else this.factors.delete(userId);
        result = change.result;
        const mfa = change.mfaEnabled;
        const next =
          mfa && mfa.value !== user.mfaEnabled
            ? { ...user, mfaEnabled: mfa.value, updateTime: mfa.time }
            : user;
        return { user: next, events: change.events };
      },
      traceparent,
    );
    return result as T;
  }
}
