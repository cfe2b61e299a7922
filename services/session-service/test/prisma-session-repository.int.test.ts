import { randomUUID } from 'node:crypto';
import { PgIdempotencyStore } from '@warden/db';
import { sessionEventsV1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgMfaChallengeStore } from '../src/adapters/prisma/pg-mfa-challenge-store.js';
import { PrismaSessionRepository } from '../src/adapters/prisma/prisma-session-repository.js';
import { newChallenge } from '../src/domain/mfa-challenge.js';
import { migratedSchema, outboxEvents, type MigratedSchema } from './support/database.js';
import { aSession } from './support/mothers.js';
import { sessionRepositoryContract } from './support/session-repository-contract.js';

let db: MigratedSchema;
beforeAll(async () => {
  db = await migratedSchema('session_repo');
});
afterAll(() => db.drop());

sessionRepositoryContract('prisma', async () => {
  // DELETE, not TRUNCATE: these tables are tiny here and TRUNCATE waits for an exclusive lock.
  await db.pool.query(
    'DELETE FROM rotated_tokens; DELETE FROM sessions; DELETE FROM outbox; DELETE FROM processed_events',
  );
  return {
    sessions: new PrismaSessionRepository(db.pool),
    events: () => outboxEvents(db),
  };
});

describe('erasing a deleted user over Postgres', () => {
  it("redacts their sessions' started rows (written before v1.1) and drops their idempotent responses, in the same transaction", async () => {
    await db.pool.query('DELETE FROM outbox; DELETE FROM idempotency_keys');
    const repository = new PrismaSessionRepository(db.pool);
    const userId = randomUUID();
    const client = { ipAddress: '198.51.100.99', userAgent: 'Erasable/9.9' };
    const [mine, theirs] = [aSession({ userId, client }), aSession({ client })];
    for (const session of [mine, theirs])
      await repository.updateUserSessions(session.userId, () => [{ session, event: 'started' }]);
    // What versions before v1.1 put in the payload: the client data.
    for (const session of [mine, theirs])
      await db.pool.query(`UPDATE outbox SET payload = $2 WHERE headers->>'ce-subject' = $1`, [
        session.id,
        Buffer.from(
          sessionEventsV1.SessionStarted.encode(
            sessionEventsV1.SessionStarted.fromPartial({
              sessionId: session.id,
              userId: session.userId,
              client,
            }),
          ).finish(),
        ),
      ]);
    const idempotency = new PgIdempotencyStore(db.pool);
    for (const [keyHash, owner] of [
      ['mine', userId],
      ['theirs', theirs.userId],
    ] as const) {
      await idempotency.claim({ keyHash, fingerprint: 'f', now: new Date() }, 60_000);
      await idempotency.complete(keyHash, Buffer.from(client.userAgent), owner);
    }

    // A sign-in of theirs waiting for its second factor holds the same client data.
    const challenges = new PgMfaChallengeStore(db.pool);
    const pending = [userId, theirs.userId].map((owner) =>
      newChallenge({ userId: owner, client, now: new Date() }),
    );
    for (const { challenge } of pending) await challenges.add(challenge);

    await repository.updateUserSessions(userId, () => [], {
      inbox: { consumer: 'erasure-test', eventId: randomUUID() },
      eraseUser: true,
    });
    const left = await db.pool.query<{ user_id: string }>('SELECT user_id FROM mfa_challenges');
    expect(left.rows.map((r) => r.user_id)).toEqual([theirs.userId]);

    const started = async (sessionId: string) => {
      const { rows } = await db.pool.query<{ payload: Buffer }>(
        `SELECT payload FROM outbox WHERE type = 'warden.session.v1.started' AND headers->>'ce-subject' = $1`,
        [sessionId],
      );
      return sessionEventsV1.SessionStarted.decode(rows[0]!.payload);
    };
    expect(await started(mine.id)).toMatchObject({ sessionId: mine.id, userId });
    expect((await started(mine.id)).client).toBeUndefined();
    expect((await started(theirs.id)).client).toEqual(client);
    const { rows } = await db.pool.query('SELECT key_hash FROM idempotency_keys ORDER BY key_hash');
    expect(rows).toEqual([{ key_hash: 'theirs' }]);
    const dump = await db.pool.query(
      `SELECT t::text AS row FROM sessions t WHERE user_id = $1
       UNION ALL SELECT t::text FROM outbox t WHERE headers->>'ce-subject' = $2`,
      [userId, mine.id],
    );
    const text = dump.rows.map((r) => r.row).join('\n');
    expect(text).not.toContain(client.ipAddress);
    expect(text).not.toContain(Buffer.from(client.userAgent).toString('hex'));
  });
});
