import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TablePermissionChecker } from '@warden/bus';
import { createLogger } from '@warden/logger';
import { newEvent, OutboxRelay, STREAMS, toNatsHeaders } from '@warden/events';
import { sessionEventsV1, sessionv1, userEventsV1 } from '@warden/proto';
import { sweepInBatches } from '@warden/runtime';
import { natsConnectOptions, uniqueName, waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeCredentialsVerifier } from './support/fake-credentials-verifier.js';
import {
  userEventDurables,
  userEventsConsumer,
} from '../src/adapters/nats/user-events-consumer.js';
import { PgMfaChallengeStore } from '../src/adapters/prisma/pg-mfa-challenge-store.js';
import { EndSessionsForUserEventHandler } from '../src/application/commands/end-sessions-for-user-event.js';
import { ExpireSessionsHandler } from '../src/application/commands/expire-sessions.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { bearer, sessionClient, watch } from './support/grpc.js';
import {
  aServiceContext,
  aSession,
  aStartSessionCommand,
  aToken,
  MINUTE,
} from './support/mothers.js';
import { authenticatedWith } from '../src/domain/session.js';
import { startReplica, type Replica } from './support/replica.js';
import { sessionOf, silentLogger } from './support/test-app.js';

const PASSWORD = 'correct horse battery staple';
const ctx = aServiceContext('gateway');

let db: MigratedSchema;
// The replicas connect as session-service; user events come from user-service's NATS user, and
// ops removes the test's durables (no service may delete one).
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let userNc: NatsConnection;
let opsNc: NatsConnection;
let opsJsm: JetStreamManager;
let relay: OutboxRelay;
let a: Replica;
let b: Replica;
const credentials = new FakeCredentialsVerifier();
const permissions = new TablePermissionChecker();

beforeAll(async () => {
  db = await migratedSchema('session_int');
  nc = await connect(natsConnectOptions('session-service'));
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  userNc = await connect(natsConnectOptions('user-service'));
  opsNc = await connect(natsConnectOptions('ops'));
  opsJsm = await jetstreamManager(opsNc);
  relay = new OutboxRelay({ pool: db.pool, js, logger: silentLogger, idlePollMs: 100 });
  relay.start();
  [a, b] = await Promise.all([
    startReplica(db, nc, { credentials, permissions }),
    startReplica(db, nc, { credentials, permissions }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await relay?.stop();
  await nc?.drain();
  await userNc?.drain();
  await opsNc?.drain();
  await db?.drop();
});

async function signIn(replica: Replica, userId = randomUUID()) {
  const email = `${randomUUID()}@example.com`;
  credentials.addUser(email, PASSWORD, userId);
  const started = sessionOf(
    await replica.bus.run(
      replica.useCases.startSession,
      aStartSessionCommand({ email, password: PASSWORD }),
      ctx,
    ),
  );
  return { userId, ...started };
}

describe('session-service on Postgres and NATS', () => {
  it('a session ended through one replica is refused by another that had it cached, within 1 s', async () => {
    const { session, token } = await signIn(a);
    await b.bus.run(b.useCases.validateSession, { token }, ctx);
    expect(b.cache.lookup(session.tokenHash, Date.now())).toBeDefined();
    permissions.grant('service:admin-tool', 'session.end');
    const endedAt = Date.now();
    await a.bus.run(
      a.useCases.endSession,
      { sessionId: session.id },
      aServiceContext('admin-tool'),
    );
    await waitFor(
      () =>
        b.bus.run(b.useCases.validateSession, { token }, ctx).then(
          () => false,
          (error: { reason?: string }) => error.reason === 'SESSION_ENDED',
        ),
      { timeoutMs: 1_000, what: 'replica b to refuse the ended session' },
    );
    expect(Date.now() - endedAt).toBeLessThan(1_000);
  });

  it('a refreshed-out token is refused by the other replica once the refresh event arrives', async () => {
    const { token } = await signIn(a);
    await b.bus.run(b.useCases.validateSession, { token }, ctx);
    await a.bus.run(a.useCases.refreshSession, { token }, ctx);
    await waitFor(
      () =>
        b.bus.run(b.useCases.validateSession, { token }, ctx).then(
          () => false,
          (error: { reason?: string }) => error.reason === 'SESSION_NOT_FOUND',
        ),
      { timeoutMs: 1_000, what: 'replica b to refuse the rotated-out token' },
    );
  });

  it('writes validations back in batches, so the other replica sees the slid idle expiry', async () => {
    const { session, token } = await signIn(a);
    const validated = await a.bus.run(a.useCases.validateSession, { token }, ctx);
    await waitFor(
      async () =>
        (await b.sessions.findById(session.id))!.lastSeenTime.getTime() ===
        validated.lastSeenTime.getTime(),
      {
        what: 'the activity flush',
      },
    );
  });

  it('streams the events of every replica to a WatchSessions watcher on any replica', async () => {
    const userId = randomUUID();
    const watcher = watch(b.address, userId);
    await waitFor(() => b.hub.watchers === 1, { what: 'the watcher' });
    const { session } = await signIn(a, userId);
    permissions.grant(userId, 'session.end:own');
    await a.bus.run(
      a.useCases.endSession,
      { sessionId: session.id },
      aServiceContext('gateway', { userId, sessionId: session.id }),
    );
    await waitFor(() => watcher.events.length >= 2, { what: 'started and ended events' });
    expect(watcher.events.map((e) => [e.type, e.session!.id, e.session!.status])).toEqual([
      [
        sessionv1.SessionEventType.SESSION_EVENT_TYPE_STARTED,
        session.id,
        sessionv1.SessionStatus.SESSION_STATUS_ACTIVE,
      ],
      [
        sessionv1.SessionEventType.SESSION_EVENT_TYPE_ENDED,
        session.id,
        sessionv1.SessionStatus.SESSION_STATUS_ENDED,
      ],
    ]);
    expect(watcher.events[1]!.session!.endReason).toBe(
      sessionv1.SessionEndReason.SESSION_END_REASON_LOGOUT,
    );
    expect(watcher.events[0]!.eventId).toMatch(/^[0-9a-f-]{36}$/);
    // The started event carries no client data (personal data stays out of the stream).
    expect(watcher.events[0]!.session!.client).toBeUndefined();
    watcher.cancel();
    await watcher.ended;
  });

  it('relays to watchers only the session events session-service sent (another ce-source is dropped)', async () => {
    const userId = randomUUID();
    const watcher = watch(b.address, userId);
    await waitFor(() => b.hub.watchers === 1, { what: 'the watcher' });
    const forged = newEvent({
      type: 'warden.session.v1.started',
      source: 'user-service',
      subjectId: userId,
      payload: sessionEventsV1.SessionStarted.encode(
        sessionEventsV1.SessionStarted.fromPartial({
          sessionId: randomUUID(),
          userId,
          occurTime: new Date(),
        }),
      ).finish(),
    });
    nc.publish(forged.type, forged.payload, { headers: toNatsHeaders(forged) });
    // The server has the forged event before the real one is even sent: it is judged first.
    await nc.flush();
    const { session } = await signIn(a, userId);
    await waitFor(() => watcher.events.length >= 1, { what: 'the real started event' });
    expect(watcher.events.map((e) => e.session!.id)).toEqual([session.id]);
    watcher.cancel();
    await watcher.ended;
  });

  it('the sweeper records expiries with events, safely from several workers at once', async () => {
    const clock = { now: () => new Date(Date.now() + 2 * 24 * 60 * MINUTE) };
    const userId = randomUUID();
    const started = [await signIn(a, userId), await signIn(a, userId), await signIn(a, userId)];
    await b.bus.run(b.useCases.validateSession, { token: started[0]!.token }, ctx);
    const sweepers = [1, 2, 3].map(
      () =>
        new ExpireSessionsHandler({ sessions: a.sessions, clock, batchSize: 1, idleGraceMs: 0 }),
    );
    await Promise.all(sweepers.map((s) => sweepInBatches(() => s.execute(), 1)));
    for (const { session } of started) {
      expect(await a.sessions.findById(session.id)).toMatchObject({
        status: 'EXPIRED',
        endReason: 'ABSOLUTE_TIMEOUT',
      });
    }
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM outbox WHERE subject = 'warden.session.v1.expired' AND headers->>'ce-subject' = ANY($1)`,
      [started.map((s) => s.session.id)],
    );
    expect(rows[0].n).toBe(3);
    await waitFor(() => b.cache.lookup(started[0]!.session.tokenHash, Date.now()) === undefined, {
      what: 'the expired event to drop the cache entry',
    });
  });

  describe('user events', () => {
    const durable = uniqueName('session_test_user_events');
    let consumer: ReturnType<typeof userEventsConsumer>;

    beforeAll(async () => {
      consumer = userEventsConsumer({
        js,
        jsm,
        durable,
        handler: new EndSessionsForUserEventHandler({
          sessions: a.sessions,
          challenges: new PgMfaChallengeStore(db.pool),
          clock: { now: () => new Date() },
        }),
        logger: silentLogger,
      });
      await consumer.start();
    });
    afterAll(async () => {
      await consumer.stop();
      for (const name of userEventDurables(durable))
        await opsJsm.consumers.delete(STREAMS.user.name, name).catch(() => undefined);
    });

    const publish = async (
      type: string,
      payload: Uint8Array,
      event = newEvent({ type, source: 'user-service', payload }),
    ) => {
      await jetstream(userNc).publish(type, payload, {
        msgID: randomUUID(),
        headers: toNatsHeaders(event),
      });
      return event;
    };

    it('a disabled user’s sessions end, once however often the event is delivered', async () => {
      const userId = randomUUID();
      const mine = [await signIn(a, userId), await signIn(a, userId)];
      await b.bus.run(b.useCases.validateSession, { token: mine[0]!.token }, ctx);
      const payload = userEventsV1.UserDisabled.encode({
        userId,
        reason: 'test',
        occurTime: new Date(),
      }).finish();
      const event = await publish('warden.user.v1.disabled', payload);
      await publish('warden.user.v1.disabled', payload, event);
      await waitFor(
        () =>
          b.bus.run(b.useCases.validateSession, { token: mine[0]!.token }, ctx).then(
            () => false,
            (error: { reason?: string }) => error.reason === 'SESSION_ENDED',
          ),
        { timeoutMs: 10_000, what: 'the sessions to end' },
      );
      for (const { session } of mine)
        expect(await a.sessions.findById(session.id)).toMatchObject({
          status: 'ENDED',
          endReason: 'USER_DISABLED',
        });
      const { rows } = await db.pool.query(
        'SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1 AND event_id = $2',
        [durable, event.id],
      );
      expect(rows[0].n).toBe(1);
    });

    it('a password change ends the other sessions, a deletion all of them', async () => {
      const userId = randomUUID();
      const [keep, other] = [await signIn(a, userId), await signIn(a, userId)];
      await publish(
        'warden.user.v1.password_changed',
        userEventsV1.UserPasswordChanged.encode(
          userEventsV1.UserPasswordChanged.fromPartial({
            userId,
            exceptSessionId: keep.session.id,
          }),
        ).finish(),
      );
      await waitFor(async () => (await a.sessions.findById(other.session.id))!.status === 'ENDED', {
        timeoutMs: 10_000,
        what: 'the other session to end',
      });
      expect(await a.sessions.findById(other.session.id)).toMatchObject({
        endReason: 'PASSWORD_CHANGED',
      });
      expect((await a.sessions.findById(keep.session.id))!.status).toBe('ACTIVE');
      await publish('warden.user.v1.deleted', userEventsV1.UserDeleted.encode({ userId }).finish());
      await waitFor(async () => (await a.sessions.findById(keep.session.id))!.status === 'ENDED', {
        timeoutMs: 10_000,
        what: 'the kept session to end',
      });
      expect(await a.sessions.findById(keep.session.id)).toMatchObject({
        endReason: 'USER_DELETED',
      });
    });

    it('a second factor turned on ends the AAL1 sessions but the confirming one; AAL2 sessions stay', async () => {
      const userId = randomUUID();
      const [keep, other] = [await signIn(a, userId), await signIn(a, userId)];
      // An AAL2 session of the same user (as CompleteMfa saves one).
      const aal2Token = aToken();
      const aal2 = {
        token: aal2Token,
        session: aSession({
          userId,
          token: aal2Token,
          now: new Date(),
          ...authenticatedWith('TOTP'),
        }),
      };
      await a.sessions.updateUserSessions(userId, () => [
        { session: aal2.session, event: 'started' },
      ]);
      // Replica b has the session that is to end cached.
      await b.bus.run(b.useCases.validateSession, { token: other.token }, ctx);
      const event = await publish(
        'warden.user.v1.mfa_enabled',
        userEventsV1.MfaEnabled.encode({
          userId,
          occurTime: new Date(),
          exceptSessionId: keep.session.id,
        }).finish(),
      );
      await waitFor(
        () =>
          b.bus.run(b.useCases.validateSession, { token: other.token }, ctx).then(
            () => false,
            (error: { reason?: string }) => error.reason === 'SESSION_ENDED',
          ),
        { timeoutMs: 10_000, what: 'the AAL1 session to end, on the other replica too' },
      );
      expect(await a.sessions.findById(other.session.id)).toMatchObject({
        status: 'ENDED',
        endReason: 'MFA_ENABLED',
      });
      expect(await a.sessions.findById(keep.session.id)).toMatchObject({
        status: 'ACTIVE',
        assuranceLevel: 'AAL1',
      });
      expect(await a.sessions.findById(aal2.session.id)).toMatchObject({
        status: 'ACTIVE',
        assuranceLevel: 'AAL2',
      });
      for (const { token } of [keep, aal2])
        await expect(b.bus.run(b.useCases.validateSession, { token }, ctx)).resolves.toMatchObject({
          status: 'ACTIVE',
        });
      // Its SessionEnded event carries the reason (what WatchSessions and the revocation feed read).
      const { rows } = await db.pool.query<{ payload: Buffer }>(
        `SELECT payload FROM outbox WHERE type = 'warden.session.v1.ended' AND headers->>'ce-subject' = $1`,
        [other.session.id],
      );
      expect(sessionEventsV1.SessionEnded.decode(rows[0]!.payload).endReason).toBe(
        sessionv1.SessionEndReason.SESSION_END_REASON_MFA_ENABLED,
      );
      const applied = await db.pool.query(
        'SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1 AND event_id = $2',
        [durable, event.id],
      );
      expect(applied.rows[0].n).toBe(1);
    });

    it('points at the single durable older versions used, so operators can remove it', async () => {
      const base = uniqueName('session_test_legacy');
      await jsm.consumers.add(STREAMS.user.name, {
        durable_name: base,
        filter_subject: 'warden.user.v1.>',
        ack_policy: AckPolicy.Explicit,
      });
      const logger = createLogger({ service: 'session-service-test', level: 'silent' });
      const warn = vi.spyOn(logger, 'warn');
      const legacy = userEventsConsumer({
        js,
        jsm,
        durable: base,
        handler: new EndSessionsForUserEventHandler({
          sessions: a.sessions,
          challenges: new PgMfaChallengeStore(db.pool),
          clock: { now: () => new Date() },
        }),
        logger,
      });
      try {
        await legacy.start();
        expect(warn).toHaveBeenCalledWith(
          { stream: STREAMS.user.name, durable: base },
          expect.stringMatching(/older version/),
        );
      } finally {
        await legacy.stop();
        for (const name of [base, ...userEventDurables(base)])
          await opsJsm.consumers.delete(STREAMS.user.name, name).catch(() => undefined);
      }
    });

    it('is never handed the user events it does not act on (one durable per subject)', async () => {
      const filters = await Promise.all(
        userEventDurables(durable).map(
          async (name) => (await jsm.consumers.info(STREAMS.user.name, name)).config.filter_subject,
        ),
      );
      expect(filters.sort()).toEqual([
        'warden.user.v1.deleted',
        'warden.user.v1.disabled',
        'warden.user.v1.mfa_enabled',
        'warden.user.v1.password_changed',
      ]);
      // NATS applies the filters: a registration is never delivered, a deletion still is.
      const userId = randomUUID();
      const session = await signIn(a, userId);
      await publish('warden.user.v1.deleted', userEventsV1.UserDeleted.encode({ userId }).finish());
      await waitFor(
        async () => (await a.sessions.findById(session.session.id))!.status === 'ENDED',
        {
          timeoutMs: 10_000,
          what: 'the deletion to be applied',
        },
      );
    });
  });

  it('keeps the gRPC surface working on Prisma: list and get over the wire', async () => {
    const { userId, token, session } = await signIn(a);
    permissions.grant(userId, 'session.list:own', 'session.read:own');
    const client = sessionClient(b.address);
    const { sessions } = await client.listActiveSessions(
      { userId, pageSize: 0, pageToken: '' },
      bearer(token),
    );
    expect(sessions.map((s) => s.id)).toEqual([session.id]);
    await expect(
      client.getSession({ sessionId: session.id }, bearer(token)),
    ).resolves.toMatchObject({ session: { id: session.id } });
    client.close();
  });
});
