import type { DurableConsumer } from '@warden/events';
import { authzEventsV1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSessionEventsConsumer } from '../src/adapters/nats/session-events-consumer.js';
import { createAuthzApp, systemClock } from '../src/app.js';
import { LapseSessionGrantsHandler } from '../src/application/commands/lapse-session-grants.js';
import { newAssignment } from '../src/domain/index.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { FakeSessionDirectory } from './support/fake-session-directory.js';
import { aUserCall, aUserId, silentLogger } from './support/mothers.js';
import { aSessionEventsStream, connectTestNats, publish, type TestNats } from './support/nats.js';
import { seed } from './support/seed.js';

// Session-bound elevation over real Postgres and NATS: AssignRole binds a grant to a session
// (session-service faked: it only answers GetSession), session-service's events end it.

let db: MigratedSchema;
let nats: TestNats;
let stream: Awaited<ReturnType<typeof aSessionEventsStream>>;
let consumer: DurableConsumer;
let sessions: FakeSessionDirectory;
let app: ReturnType<typeof createAuthzApp>;
const adminId = aUserId();

beforeAll(async () => {
  db = await migratedSchema();
  nats = await connectTestNats();
  await seed(db.repository, {
    assignments: [newAssignment({ subjectId: adminId, role: 'admin' }, new Date())],
  });
});

afterAll(async () => {
  await nats?.nc.close();
  await db?.drop();
});

beforeEach(async () => {
  sessions = new FakeSessionDirectory();
  app = createAuthzApp({ repository: db.repository, logger: silentLogger, sessions });
  await app.sync.resync();
  stream = await aSessionEventsStream(nats.jsm);
  consumer = createSessionEventsConsumer({
    ...nats,
    lapseSessionGrants: new LapseSessionGrantsHandler(db.repository, systemClock),
    logger: silentLogger,
    durable: stream.durable,
    stream: stream.name,
    filterSubject: stream.filterSubject,
    subjectPrefix: stream.prefix,
    ackWaitMs: 5_000,
  });
  await consumer.start();
});

afterEach(async () => {
  await consumer.stop();
  await stream.drop();
});

/** A user with an active session (as session-service would say), and a bound admin grant for it. */
function aSignedInUser() {
  const userId = aUserId();
  const sessionId = aUserId();
  sessions.add(sessionId, {
    userId,
    active: true,
    expireTime: new Date(Date.now() + 8 * 3_600_000),
  });
  const elevate = () =>
    app.bus.run(
      app.useCases.assignRole,
      {
        subjectId: userId,
        role: 'admin',
        expireTime: new Date(Date.now() + 3_600_000),
        boundSessionId: sessionId,
      },
      aUserCall(adminId),
    );
  return { userId, sessionId, elevate };
}

const rolesOf = async (userId: string) =>
  (
    await db.pool.query('SELECT role FROM role_assignments WHERE subject_id = $1 ORDER BY role', [
      userId,
    ])
  ).rows.map((r) => r.role);
const revocationsOf = async (userId: string) =>
  (await db.outbox())
    .filter((row) => row.subject === 'warden.authz.v1.role_revoked')
    .map((row) => authzEventsV1.RoleRevoked.decode(row.payload))
    .filter((event) => event.subjectId === userId);
const processed = async (eventId: string) =>
  (
    await db.pool.query('SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2', [
      stream.durable,
      eventId,
    ])
  ).rowCount === 1;

describe('session-bound grants over Postgres and NATS', () => {
  it('lapse when the session ends: the assignment goes, announced as RoleRevoked SESSION_ENDED, once', async () => {
    const { userId, sessionId, elevate } = aSignedInUser();
    await elevate();
    expect((await app.model.decide(userId, 'user.delete')).allowed).toBe(true);
    const endTime = new Date(Math.floor(Date.now() / 1_000) * 1_000);
    const ended = stream.ended(sessionId, userId, endTime);
    // Other session events are acknowledged and change nothing.
    await publish(nats.js, stream.refreshed(sessionId, userId));
    await publish(nats.js, ended);
    await publish(nats.js, ended, true);
    await waitFor(async () => (await rolesOf(userId)).length === 0, {
      timeoutMs: 15_000,
      what: 'the bound grant removed',
    });
    await waitFor(consumerIdle, { timeoutMs: 15_000, what: 'every delivery handled' });
    expect(await revocationsOf(userId)).toEqual([
      expect.objectContaining({
        subjectId: userId,
        role: 'admin',
        reason: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_SESSION_ENDED,
        occurTime: endTime,
      }),
    ]);
  });

  it('lets an undecodable session event go and carries on', async () => {
    const { userId, sessionId, elevate } = aSignedInUser();
    await elevate();
    const broken = stream.ended(aUserId(), userId);
    broken.payload = new Uint8Array([0x0a, 0xff, 0xff, 0xff]);
    await publish(nats.js, broken);
    await publish(nats.js, stream.ended(sessionId, userId));
    await waitFor(async () => (await rolesOf(userId)).length === 0, {
      timeoutMs: 15_000,
      what: 'the good event applied',
    });
    await waitFor(consumerIdle, { timeoutMs: 15_000, what: 'nothing left pending' });
  });

  it('never leaves a live grant for a session that ended before the assignment commits', async () => {
    const { userId, sessionId, elevate } = aSignedInUser();
    // The session expires; its event is applied before AssignRole commits, while session-service
    // (asked first) still said active.
    const expired = stream.expired(sessionId, userId);
    await publish(nats.js, expired);
    await waitFor(() => processed(expired.id), { timeoutMs: 15_000, what: 'the expiry applied' });
    await expect(elevate()).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'SESSION_NOT_ACTIVE',
    });
    expect(await rolesOf(userId)).toEqual([]);
    expect((await app.model.decide(userId, 'user.delete')).allowed).toBe(false);
  });
});

async function consumerIdle(): Promise<boolean> {
  const info = await nats.jsm.consumers.info(stream.name, stream.durable);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}
