import type { MfaChallengeStore } from '../../application/ports.js';
import type { MfaChallenge } from '../../domain/mfa-challenge.js';

/**
 * In-memory twin of PgMfaChallengeStore, for component tests; MemorySessionRepository consumes
 * from `challenges` as the Postgres repository does in its transaction.
 */
export class MemoryMfaChallengeStore implements MfaChallengeStore {
  readonly challenges = new Map<string, MfaChallenge>();

  async add(challenge: MfaChallenge): Promise<void> {
    this.challenges.set(challenge.idHash, challenge);
  }

  async attempt(idHash: string, now: Date, maxAttempts: number): Promise<MfaChallenge | undefined> {
    const current = this.challenges.get(idHash);
    if (!current || current.expireTime <= now || current.attempts >= maxAttempts) return undefined;
    const counted = { ...current, attempts: current.attempts + 1 };
    this.challenges.set(idHash, counted);
    return counted;
  }

  async purgeExpired(before: Date): Promise<number> {
    let purged = 0;
    for (const [key, challenge] of this.challenges)
      if (challenge.expireTime < before && this.challenges.delete(key)) purged++;
    return purged;
  }

  async dropForUser(userId: string, createdBy?: Date): Promise<number> {
    let dropped = 0;
    for (const [key, challenge] of this.challenges)
      if (
        challenge.userId === userId &&
        (!createdBy || challenge.createTime <= createdBy) &&
        this.challenges.delete(key)
      )
        dropped++;
    return dropped;
  }
}
