import { randomUUID } from 'node:crypto';
import { PgIdempotencyStore } from '@warden/db';
import type { AppError } from '@warden/errors';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionWithToken } from '../src/application/codecs.js';
import type { IdempotencyStore } from '@warden/bus';
import type { Clock } from '../src/application/ports.js';
import { hashChallengeId } from '../src/domain/mfa-challenge.js';
import { hashToken } from '../src/domain/session-token.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { dyingAfterCommit } from './support/dying-idempotency-store.js';
import { FakeCredentialsVerifier } from './support/fake-credentials-verifier.js';
import { postgresSessionApp } from './support/replica.js';
import { aServiceContext, aStartSessionCommand, aUserId } from './support/mothers.js';

// CompleteMfa over Postgres when its process dies: the challenge is spent in the transaction that
// saves the session, so a death before COMMIT leaves the challenge for a retry, and a death after
// it leaves the session for the request_id's recovery; never a spent challenge without a session.

let db: MigratedSchema;
beforeAll(async () => {
  db = await migratedSchema('complete_mfa');
});
afterAll(() => db.drop());

const TOTP = '123456';
const NEXT_TOTP = '234567';
const ctx = aServiceContext('gateway');
const credentials = new FakeCredentialsVerifier();

const replica = (idempotencyStore: IdempotencyStore, clock?: Clock) =>
  postgresSessionApp(db, { credentials, idempotencyStore, ...(clock ? { clock } : {}) });

/** A user with MFA on and the challenge their password got. */
async function challenged(app: ReturnType<typeof replica>) {
  const email = `${randomUUID()}@example.com`;
  const userId = aUserId();
  credentials.addUser(email, 'correct horse battery staple', userId);
  credentials.enableMfa(email, TOTP, NEXT_TOTP);
  const started = await app.bus.run(
    app.useCases.startSession,
    aStartSessionCommand({ email }),
    ctx,
  );
  if (!('challenge' in started)) throw new Error('expected a challenge');
  return { userId, challengeId: started.challenge.id };
}

const completeOn = (
  app: ReturnType<typeof replica>,
  challengeId: string,
  code: string,
  requestId: string,
) =>
  app.bus.run(
    app.useCases.completeMfa,
    { challengeId, factor: { kind: 'TOTP', code }, requestId },
    ctx,
  ) as Promise<SessionWithToken>;

const rowsOf = async (userId: string, challengeId: string) => ({
  sessions: (
    await db.pool.query<{ id: string; token_hash: string }>(
      'SELECT id, token_hash FROM sessions WHERE user_id = $1',
      [userId],
    )
  ).rows,
  challenge: (
    await db.pool.query<{ attempts: number }>(
      'SELECT attempts FROM mfa_challenges WHERE id_hash = $1',
      [hashChallengeId(challengeId)],
    )
  ).rows[0],
});

describe('CompleteMfa when its process dies, over Postgres', () => {
  it('a connection killed after the challenge was deleted and before COMMIT loses neither: the retry completes on the same challenge', async () => {
    const app = replica(new PgIdempotencyStore(db.pool));
    const { userId, challengeId } = await challenged(app);
    // The session's INSERT kills its own backend, as a crashed process or host would leave the
    // transaction: after the challenge's DELETE, before COMMIT. Once (a sequence is not rolled back).
    await db.pool.query(`
      CREATE SEQUENCE die_once;
      CREATE FUNCTION die_mid_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('die_once') = 1 THEN
          PERFORM pg_terminate_backend(pg_backend_pid());
          PERFORM pg_sleep(30);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER die_mid_transaction BEFORE INSERT ON sessions
        FOR EACH ROW EXECUTE FUNCTION die_mid_transaction();`);
    try {
      const requestId = `mfa-${randomUUID()}`;
      const died = await completeOn(app, challengeId, TOTP, requestId).then(
        () => undefined,
        (e: { code?: string }) => e.code,
      );
      expect(died).toBe('57P01'); // admin_shutdown: the connection died mid-transaction
      // Rolled back together: no session, and the challenge is there with its attempt counted.
      expect(await rowsOf(userId, challengeId)).toEqual({
        sessions: [],
        challenge: { attempts: 1 },
      });

      // user-service spent the first code (a replay now); the next one completes the sign-in.
      const replayed = await completeOn(app, challengeId, TOTP, requestId).then(
        () => undefined,
        (e: AppError) => e.reason,
      );
      expect(replayed).toBe('INVALID_SECOND_FACTOR');
      const done = await completeOn(app, challengeId, NEXT_TOTP, requestId);
      expect(done.session).toMatchObject({ userId, assuranceLevel: 'AAL2' });
      expect(await rowsOf(userId, challengeId)).toEqual({
        sessions: [{ id: done.session.id, token_hash: hashToken(done.token) }],
        challenge: undefined,
      });
    } finally {
      await db.pool.query(`
        DROP TRIGGER die_mid_transaction ON sessions;
        DROP FUNCTION die_mid_transaction();
        DROP SEQUENCE die_once;`);
    }
  });

  it('a death after COMMIT (before the answer was stored) is recovered by the request_id: that session, a new token', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const dying = dyingAfterCommit(new PgIdempotencyStore(db.pool));
      const crashed = replica(dying.store);
      const { userId, challengeId } = await challenged(crashed);
      const requestId = `mfa-${randomUUID()}`;
      void completeOn(crashed, challengeId, TOTP, requestId); // never answers
      await dying.killed;
      const committed = await rowsOf(userId, challengeId);
      expect(committed.sessions).toHaveLength(1);
      expect(committed.challenge).toBeUndefined();

      // Another replica, past the dead request's takeover time, with the same request_id.
      const survivor = replica(new PgIdempotencyStore(db.pool), {
        now: () => new Date(Date.now() + 11_000),
      });
      const retried = await completeOn(survivor, challengeId, TOTP, requestId);
      expect(retried.session).toMatchObject({
        id: committed.sessions[0]!.id,
        assuranceLevel: 'AAL2',
      });
      expect(await rowsOf(userId, challengeId)).toEqual({
        sessions: [{ id: retried.session.id, token_hash: hashToken(retried.token) }],
        challenge: undefined,
      });
      // Without the request_id the spent challenge is refused.
      const without = await completeOn(survivor, challengeId, NEXT_TOTP, '').then(
        () => undefined,
        (e: AppError) => e.reason,
      );
      expect(without).toBe('MFA_CHALLENGE_NOT_FOUND');
    } finally {
      vi.useRealTimers();
    }
  });
});
