import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PgMfaChallengeStore } from '../src/adapters/prisma/pg-mfa-challenge-store.js';
import { MFA_CHALLENGE_MAX_ATTEMPTS, newChallenge } from '../src/domain/mfa-challenge.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { MINUTE, T0 } from './support/mothers.js';

let db: MigratedSchema;
let store: PgMfaChallengeStore;
beforeAll(async () => {
  db = await migratedSchema('mfa_challenges');
  store = new PgMfaChallengeStore(db.pool);
});
afterAll(() => db.drop());
beforeEach(async () => {
  await db.pool.query('DELETE FROM mfa_challenges');
});

const client = { ipAddress: '203.0.113.9', userAgent: 'Challenge/1.0' };
const at = (ms: number) => new Date(T0.getTime() + ms);

async function stored() {
  const { id, challenge } = newChallenge({ userId: randomUUID(), client, now: T0 });
  await store.add(challenge);
  return { id, challenge };
}

describe('MFA challenges over Postgres', () => {
  it('keeps only the hash of the id and hands the challenge back, counting each attempt', async () => {
    const { id, challenge } = await stored();
    const { rows } = await db.pool.query<{ id_hash: string }>('SELECT id_hash FROM mfa_challenges');
    expect(rows.map((r) => r.id_hash)).toEqual([challenge.idHash]);
    expect(JSON.stringify(rows)).not.toContain(id);
    expect(await store.attempt(challenge.idHash, at(MINUTE), 5)).toEqual({
      ...challenge,
      attempts: 1,
    });
    expect((await store.attempt(challenge.idHash, at(MINUTE), 5))?.attempts).toBe(2);
  });

  it('counts at most max attempts even when they race', async () => {
    const { challenge } = await stored();
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        store.attempt(challenge.idHash, at(MINUTE), MFA_CHALLENGE_MAX_ATTEMPTS),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(MFA_CHALLENGE_MAX_ATTEMPTS);
    expect(await store.attempt(challenge.idHash, at(MINUTE), MFA_CHALLENGE_MAX_ATTEMPTS)).toBe(
      undefined,
    );
  });

  it('refuses an expired challenge, and the purge deletes it', async () => {
    const { challenge } = await stored();
    expect(await store.attempt(challenge.idHash, challenge.expireTime, 5)).toBeUndefined();
    expect(await store.purgeExpired(at(MINUTE))).toBe(0);
    expect(await store.purgeExpired(at(6 * MINUTE))).toBe(1);
  });

  it("drops a user's challenges created by a time, and no one else's", async () => {
    const userId = randomUUID();
    const early = newChallenge({ userId, client, now: T0 }).challenge;
    const late = newChallenge({ userId, client, now: at(3 * MINUTE) }).challenge;
    const other = (await stored()).challenge;
    for (const c of [early, late]) await store.add(c);
    expect(await store.dropForUser(userId, at(MINUTE))).toBe(1);
    expect(await store.attempt(early.idHash, at(MINUTE), 5)).toBeUndefined();
    expect(await store.dropForUser(userId)).toBe(1);
    expect(await store.attempt(late.idHash, at(3 * MINUTE), 5)).toBeUndefined();
    expect((await store.attempt(other.idHash, at(MINUTE), 5))?.userId).toBe(other.userId);
  });
});
