// EndSession against the physical limit: raw Postgres two-statement transactions/s (BEGIN; UPDATE
// one sessions row; INSERT one outbox row; COMMIT) through a pg Pool of the service's pool size
// (10), at the same concurrency, on the same tables of the same freshly migrated schema. The two
// statements are the writes EndSession has to make: the session ended, its event in the outbox.
// session-service runs in-process over real gRPC on loopback; each call ends a different active
// session as its owner (the gateway forwarding the user's bearer token; the token is in the
// session cache, as for a session used in the last 10 s). Sessions are seeded before every run,
// outside the timed window, so no call ends an already ended one. Runs alternate (raw, service);
// the verdict compares medians. Target: >= 0.5 x.
//   npx tsx bench/end-session.ts [--concurrency 32] [--seconds 4] [--rounds 3]
import { randomUUID } from 'node:crypto';
import { createPool } from '../libs/db/src/index.js';
import { toOutboxRow } from '../libs/events/src/index.js';
import { TEST_DATABASE_URL } from '../libs/testing/src/index.js';
import { FakeCredentialsVerifier } from '../services/session-service/test/support/fake-credentials-verifier.js';
import { toEnvelope } from '../services/session-service/src/mapping.js';
import { sessionColumns } from '../services/session-service/src/adapters/prisma/session-rows.js';
import { insertSessions } from '../services/session-service/src/adapters/prisma/session-sql.js';
import { issueToken } from '../services/session-service/src/domain/session-token.js';
import { end, newSession, type Session } from '../services/session-service/src/domain/session.js';
import { closedLoopArgs, compare, machine, type Target } from './lib/closed-loop.js';
import {
  gatewayClients,
  POOL_SIZE,
  SESSION_SETTINGS,
  startSessionService,
} from './lib/services.js';

const { run } = closedLoopArgs({ concurrency: '32', seconds: '4', rounds: '3' });
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const service = await startSessionService({ credentials: new FakeCredentialsVerifier() });
const raw = createPool({
  url: TEST_DATABASE_URL,
  schema: service.db.schema,
  poolSize: POOL_SIZE,
  applicationName: 'bench:raw',
});
const client = gatewayClients({ session: service.address });

/** `count` active sessions of as many users, inserted as StartSession would (the rows, not the events). */
async function seedSessions(count: number): Promise<Array<{ session: Session; token: string }>> {
  const now = new Date();
  const seeded = Array.from({ length: count }, () => {
    const { token, hash } = issueToken(SESSION_SETTINGS.tokenBytes);
    const session = newSession({
      id: randomUUID(),
      userId: randomUUID(),
      tokenHash: hash,
      client: { ipAddress: '127.0.0.1', userAgent: 'bench/1.0' },
      now,
      lifetimes: SESSION_SETTINGS,
    });
    return { session, token };
  });
  for (let i = 0; i < seeded.length; i += 2_000)
    await service.db.pool.query(
      insertSessions(1),
      sessionColumns(seeded.slice(i, i + 2_000).map(({ session }) => session)),
    );
  return seeded;
}

/**
 * How many sessions the next run of `ms` may consume: twice the fastest rate seen so far (a
 * generous guess before any), so that no caller runs dry and no call meets an ended session.
 */
function sizer() {
  let rate = 0;
  let done = 0;
  let lastMs = 0;
  return {
    need(ms: number) {
      if (lastMs) rate = Math.max(rate, (done * 1_000) / lastMs);
      done = 0;
      lastMs = ms;
      return Math.ceil(((rate || 3_000) * ms * 2) / 1_000) + run.concurrency;
    },
    done() {
      done++;
    },
  };
}

let ranOut = 0;
const rawSize = sizer();
let rawQueue: string[] = [];
// A real "ended" event for the outbox row, so the INSERT carries the same bytes EndSession's does.
const sample = newSession({
  id: randomUUID(),
  userId: randomUUID(),
  tokenHash: issueToken(32).hash,
  client: { ipAddress: '127.0.0.1', userAgent: 'bench/1.0' },
  now: new Date(),
  lifetimes: SESSION_SETTINGS,
});
const sampleEvent = toOutboxRow(
  toEnvelope('ended', end(sample, 'LOGOUT', new Date())!, TRACEPARENT),
);
const rawTarget: Target = {
  name: 'raw BEGIN; UPDATE; INSERT; COMMIT',
  async prepare(ms) {
    rawQueue = (await seedSessions(rawSize.need(ms))).map(({ session }) => session.id);
  },
  async op() {
    const id = rawQueue.pop();
    if (id === undefined) {
      ranOut++;
      return false;
    }
    const connection = await raw.connect();
    try {
      await connection.query('BEGIN');
      await connection.query(
        `UPDATE sessions SET status = 'ENDED', end_time = $2, end_reason = 'LOGOUT' WHERE id = $1`,
        [id, new Date()],
      );
      await connection.query(
        'INSERT INTO outbox (id, subject, type, payload, headers, create_time) VALUES ($1, $2, $3, $4, $5, $6)',
        [
          randomUUID(),
          sampleEvent.subject,
          sampleEvent.type,
          sampleEvent.payload,
          sampleEvent.headers,
          new Date(),
        ],
      );
      await connection.query('COMMIT');
    } catch (error) {
      await connection.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      connection.release();
    }
    rawSize.done();
  },
};

const serviceSize = sizer();
let serviceQueue: Array<{ id: string; token: string }> = [];
const serviceTarget: Target = {
  name: 'EndSession',
  async prepare(ms) {
    const seeded = await seedSessions(serviceSize.need(ms));
    const now = Date.now();
    for (const { session } of seeded) service.app.cache.put(session, now);
    serviceQueue = seeded.map(({ session, token }) => ({ id: session.id, token }));
  },
  async op() {
    const next = serviceQueue.pop();
    if (next === undefined) {
      ranOut++;
      return false;
    }
    const { session } = await client.endSession(
      { sessionId: next.id },
      { bearerToken: next.token, requestId: randomUUID(), traceparent: TRACEPARENT },
    );
    if (session?.endTime === undefined) throw new Error(`session ${next.id} did not end`);
    serviceSize.done();
  },
};

try {
  const targets = [rawTarget, serviceTarget];
  console.log(
    `EndSession vs raw Postgres two-statement transactions: ${run.concurrency} concurrent callers, pool size ${POOL_SIZE}, ${run.rounds} alternating rounds of ${run.runMs / 1000}s`,
  );
  console.log(`machine: ${machine()}`);
  const { met } = await compare({
    ...run,
    targets,
    unit: 'op',
    what: 'EndSession',
    limitName: 'raw two-statement transactions/s',
    target: 0.5,
    async afterRounds() {
      if (ranOut)
        console.log(`WARNING: a run ran out of seeded sessions (${ranOut} callers stopped)`);
      const { rows } = await service.db.pool.query<{ status: string; n: string }>(
        'SELECT status, count(*) AS n FROM sessions GROUP BY status ORDER BY status',
      );
      console.log(
        `(sessions in schema ${service.db.schema}: ${rows.map((r) => `${r.status} ${r.n}`).join(', ')})`,
      );
    },
  });
  process.exitCode = met && !ranOut ? 0 : 1;
} finally {
  client.close();
  await raw.end();
  await service.stop();
}
process.exit();
