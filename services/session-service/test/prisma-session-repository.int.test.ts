import { randomUUID } from 'node:crypto';
import { PgIdempotencyStore } from '@warden/db';
import { pgRoundTrips } from '@warden/testing';
import { sessionEventsV1 } from '@warden/proto';
import { IdempotencyKeyring, TablePermissionChecker } from '@warden/bus';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import type { Clock, SessionRepository } from '../src/application/ports.js';
import type { SessionWithToken } from '../src/application/codecs.js';
import { hashToken } from '../src/domain/session-token.js';
import { end } from '../src/domain/session.js';
import { dyingAfterCommit } from './support/dying-idempotency-store.js';
import { FakeCredentialsVerifier } from './support/fake-credentials-verifier.js';
import { postgresSessionApp } from './support/replica.js';
import { PgMfaChallengeStore } from '../src/adapters/prisma/pg-mfa-challenge-store.js';
import { PrismaSessionRepository } from '../src/adapters/prisma/prisma-session-repository.js';
import { newChallenge } from '../src/domain/mfa-challenge.js';
import { migratedSchema, outboxEvents, type MigratedSchema } from './support/database.js';
import { aServiceContext, aSession, aStartSessionCommand, aUserId } from './support/mothers.js';
import { sessionRepositoryContract } from './support/session-repository-contract.js';

let db: MigratedSchema;
beforeAll(async () => {
  db = await migratedSchema('session_repo');
});
afterAll(() => db.drop());

sessionRepositoryContract('prisma', async () => {
  // DELETE, not TRUNCATE: these tables are tiny here and TRUNCATE waits for an exclusive lock.
  await db.pool.query(
    'DELETE FROM rotated_tokens; DELETE FROM sessions; DELETE FROM outbox; DELETE FROM processed_events; DELETE FROM mfa_challenges',
  );
  return {
    sessions: new PrismaSessionRepository(db.pool),
    challenges: new PgMfaChallengeStore(db.pool),
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

describe('StartSession recovery over Postgres', () => {
  const credentials = new FakeCredentialsVerifier();
  /** The replicas' shared server secret: each reads the records the others write. */
  const KEYRING = new IdempotencyKeyring('a-server-secret-of-44-characters-0123456789=');
  const replica = (
    idempotencyStore: PgIdempotencyStore | ReturnType<typeof dyingAfterCommit>['store'],
    clock: Clock,
    sessions: SessionRepository = new PrismaSessionRepository(db.pool),
  ) =>
    postgresSessionApp(db, {
      sessions,
      idempotencyKeyring: KEYRING,
      credentials,
      idempotencyStore,
      clock,
    });

  /**
   * The sessions of a replica that stores a request's answer after its commit, not in it (one of
   * the version before, during a rolling upgrade): the one that can die between the two.
   */
  const answeringAfterCommit = (): SessionRepository => {
    const sessions = new PrismaSessionRepository(db.pool);
    return new Proxy(sessions, {
      get(target, property, receiver) {
        if (property !== 'updateUserSessions') return Reflect.get(target, property, receiver);
        return (
          ...[userId, decide, options]: Parameters<SessionRepository['updateUserSessions']>
        ) => {
          const { answer: _answer, ...rest } = options ?? {};
          return target.updateUserSessions(userId, decide, rest);
        };
      },
    });
  };

  it('a retry on another replica after the first died between commit and stored answer gets the committed session', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const email = `${randomUUID()}@example.com`;
      const userId = aUserId();
      credentials.addUser(email, 'correct horse battery staple', userId);
      const cmd = aStartSessionCommand({ email, requestId: `req-${randomUUID()}` });
      const ctx = aServiceContext('gateway');
      const dying = dyingAfterCommit(new PgIdempotencyStore(db.pool));
      const crashed = replica(dying.store, { now: () => new Date() }, answeringAfterCommit());
      void crashed.bus.run(crashed.useCases.startSession, cmd, ctx); // never answers
      await dying.killed;
      const committed = await db.pool.query<{ id: string; token_hash: string }>(
        'SELECT id, token_hash FROM sessions WHERE user_id = $1',
        [userId],
      );
      expect(committed.rows).toHaveLength(1);

      // The survivor's clock is past the dead request's takeover time.
      const survivor = replica(new PgIdempotencyStore(db.pool), {
        now: () => new Date(Date.now() + 11_000),
      });
      const retried = (await survivor.bus.run(
        survivor.useCases.startSession,
        cmd,
        ctx,
      )) as SessionWithToken;
      expect(retried.session.id).toBe(committed.rows[0]!.id);
      const after = await db.pool.query<{ id: string; token_hash: string }>(
        'SELECT id, token_hash FROM sessions WHERE user_id = $1',
        [userId],
      );
      expect(after.rows).toEqual([
        { id: retried.session.id, token_hash: hashToken(retried.token) },
      ]);
      const started = await db.pool.query(
        `SELECT 1 FROM outbox WHERE type = 'warden.session.v1.started' AND headers->>'ce-subject' = $1`,
        [retried.session.id],
      );
      expect(started.rowCount).toBe(1);
      // Replayed from now on, on either replica.
      const again = (await survivor.bus.run(
        survivor.useCases.startSession,
        cmd,
        ctx,
      )) as SessionWithToken;
      expect(again.token).toBe(retried.token);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stores the answer with the session: a replica dying right after its commit leaves it to replay', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const email = `${randomUUID()}@example.com`;
      const userId = aUserId();
      credentials.addUser(email, 'correct horse battery staple', userId);
      const cmd = aStartSessionCommand({ email, requestId: `req-${randomUUID()}` });
      const ctx = aServiceContext('gateway');
      const store = new PgIdempotencyStore(db.pool);
      const complete = vi.spyOn(store, 'complete');
      // Dies as soon as its transaction has committed: nothing after the commit runs.
      let died = () => undefined as void;
      const killed = new Promise<void>((resolve) => (died = resolve));
      const sessions = new PrismaSessionRepository(db.pool);
      const dying = new Proxy(sessions, {
        get(target, property, receiver) {
          if (property !== 'updateUserSessions') return Reflect.get(target, property, receiver);
          return async (...args: Parameters<SessionRepository['updateUserSessions']>) => {
            await target.updateUserSessions(...args);
            died();
            return new Promise<never>(() => undefined);
          };
        },
      });
      const crashed = replica(store, { now: () => new Date() }, dying);
      void crashed.bus.run(crashed.useCases.startSession, cmd, ctx); // never answers
      await killed;
      const committed = await db.pool.query<{ id: string; token_hash: string }>(
        'SELECT id, token_hash FROM sessions WHERE user_id = $1',
        [userId],
      );
      expect(committed.rows).toHaveLength(1);
      const record = await db.pool.query<{ response: Buffer | null; owner_id: string | null }>(
        'SELECT response, owner_id FROM idempotency_keys WHERE owner_id = $1',
        [userId],
      );
      expect(record.rows).toHaveLength(1);
      expect(record.rows[0]!.response).not.toBeNull();

      // Another replica, past the takeover time were the record pending: the stored answer.
      const survivor = replica(new PgIdempotencyStore(db.pool), {
        now: () => new Date(Date.now() + 11_000),
      });
      const replayed = (await survivor.bus.run(
        survivor.useCases.startSession,
        cmd,
        ctx,
      )) as SessionWithToken;
      expect(replayed.session.id).toBe(committed.rows[0]!.id);
      expect(hashToken(replayed.token)).toBe(committed.rows[0]!.token_hash);
      const after = await db.pool.query('SELECT 1 FROM sessions WHERE user_id = $1', [userId]);
      expect(after.rowCount).toBe(1);
      expect(complete).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('round trips to Postgres per call', () => {
  /** What each round trip `run` makes on pg sends: its statements' first words (a simple query may hold several). */
  async function roundTrips(run: () => Promise<unknown>): Promise<string[]> {
    return (await pgRoundTrips(run)).map((text) =>
      text
        .split(/;\s*(?=[A-Z])/)
        .map((statement) => statement.trim().split(/\s+/).slice(0, 2).join(' '))
        .join('; '),
    );
  }

  const credentials = new FakeCredentialsVerifier();
  const permissions = new TablePermissionChecker();
  const app = () =>
    postgresSessionApp(db, {
      credentials,
      authorizer: permissions,
      lastSeenFlushIntervalMs: 60_000,
    });

  it('StartSession, EndSession and ValidateSession make only the round trips they need', async () => {
    const { bus, useCases } = app();
    const email = `${randomUUID()}@example.com`;
    const userId = aUserId();
    credentials.addUser(email, 'correct horse battery staple', userId);
    permissions.grant(userId, 'session.end:own');
    const signIn = (requestId: string) =>
      bus.run(
        useCases.startSession,
        aStartSessionCommand({ email, requestId }),
        aServiceContext('gateway'),
      ) as Promise<SessionWithToken>;

    let started: SessionWithToken | undefined;
    const withRequestId = await roundTrips(async () => {
      started = await signIn(`req-${randomUUID()}`);
    });
    const withoutRequestId = await roundTrips(() => signIn(''));
    const cold = await roundTrips(() =>
      app().bus.run(app().useCases.validateSession, { token: started!.token }, aServiceContext()),
    );
    const warm = await roundTrips(() =>
      bus.run(useCases.validateSession, { token: started!.token }, aServiceContext()),
    );
    const logout = await roundTrips(() =>
      bus.run(
        useCases.endSession,
        { sessionId: started!.session.id },
        aServiceContext('gateway', { userId, sessionId: started!.session.id }),
      ),
    );
    // The idempotency claim; the user's lock and active sessions with BEGIN; every write (session,
    // sessions it ends, outbox, audit, request link, the stored answer) in one statement, sent
    // with the COMMIT.
    expect(withRequestId).toEqual([
      'INSERT INTO',
      'BEGIN; SELECT pg_advisory_xact_lock(24149,; SELECT id,',
      'WITH created; COMMIT',
    ]);
    expect(withoutRequestId).toEqual(withRequestId.slice(1));
    // One read for a token not cached here, none for a cached one (activity is written in batches).
    expect(cold).toEqual(['SELECT id,']);
    expect(warm).toEqual([]);
    // The owner's logout: the row with its version, then one conditional statement, no transaction.
    expect(logout).toEqual(['SELECT xmin::text', 'WITH changed']);
  });
});

describe('a change of one session over Postgres', () => {
  /**
   * The repository over a pool on which, after each of the first `times` reads of a session with
   * its version, another writer changes the row (as the activity flusher or a refresh would).
   */
  function racedBy(times: number) {
    let raced = 0;
    const pool = new Proxy(db.pool, {
      get(target, property, receiver) {
        if (property !== 'query') return Reflect.get(target, property, receiver);
        return async (...args: unknown[]) => {
          const result = await (target.query as (...a: unknown[]) => Promise<pg.QueryResult>)(
            ...args,
          );
          const config = args[0] as { name?: string; values?: unknown[] };
          if (config.name === 'warden-session-versioned' && raced < times) {
            raced++;
            await target.query(
              `UPDATE sessions SET last_seen_time = last_seen_time + interval '1 second' WHERE id = $1`,
              [config.values![0]],
            );
          }
          return result;
        };
      },
    });
    return new PrismaSessionRepository(pool);
  }

  it('re-runs the change on the row another writer changed in between, writing only the last result', async () => {
    for (const times of [1, 3]) {
      await db.pool.query('DELETE FROM sessions');
      const session = aSession({ now: new Date() });
      await new PrismaSessionRepository(db.pool).updateUserSessions(session.userId, () => [
        { session, event: 'started' },
      ]);
      await db.pool.query('DELETE FROM outbox; DELETE FROM audit_events');
      const seen: Date[] = [];
      const ended = await racedBy(times).update(session.id, (stored) => {
        seen.push(stored.lastSeenTime);
        const after = end(stored, 'LOGOUT', new Date());
        return after && { session: after, event: 'ended' };
      });
      // Three misses hand over to the locking transaction, which reads the row once more.
      expect(seen).toHaveLength(times + 1);
      expect(ended?.status).toBe('ENDED');
      // The other writer's change is kept: the write used the row it made.
      expect(ended!.lastSeenTime.getTime()).toBe(session.lastSeenTime.getTime() + times * 1_000);
      const { rows } = await db.pool.query<{ status: string; last_seen_time: Date }>(
        'SELECT status, last_seen_time FROM sessions WHERE id = $1',
        [session.id],
      );
      expect(rows).toEqual([{ status: 'ENDED', last_seen_time: ended!.lastSeenTime }]);
      // The missed attempts wrote no event and no audit entry.
      expect(await outboxEvents(db)).toEqual([{ kind: 'ended', sessionId: session.id }]);
      const audit = await db.pool.query('SELECT action FROM audit_events');
      expect(audit.rowCount).toBe(1);
    }
  });

  it('writes nothing when the session is gone before its change is written', async () => {
    const session = aSession({ now: new Date() });
    const repository = new PrismaSessionRepository(db.pool);
    await repository.updateUserSessions(session.userId, () => [{ session, event: 'started' }]);
    await db.pool.query('DELETE FROM outbox');
    const gone = new PrismaSessionRepository(
      new Proxy(db.pool, {
        get(target, property, receiver) {
          if (property !== 'query') return Reflect.get(target, property, receiver);
          return async (...args: unknown[]) => {
            const result = await (target.query as (...a: unknown[]) => Promise<pg.QueryResult>)(
              ...args,
            );
            if ((args[0] as { name?: string }).name === 'warden-session-versioned')
              await target.query('DELETE FROM sessions WHERE id = $1', [session.id]);
            return result;
          };
        },
      }),
    );
    const ended = await gone.update(session.id, (stored) => {
      const after = end(stored, 'LOGOUT', new Date());
      return after && { session: after, event: 'ended' };
    });
    expect(ended).toBeUndefined();
    expect(await outboxEvents(db)).toEqual([]);
  });
});
