import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import { AppError } from '@warden/errors';
import { sessionv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { GrpcServer } from '@warden/grpc';
import { createSessionServer } from '../src/server.js';
import { bearer, KEYS, sessionClient, watch, type SessionClient } from './support/grpc.js';
import { HOUR, MINUTE, T0 } from './support/mothers.js';
import { silentLogger, testApp, type TestApp } from './support/test-app.js';

const { SessionStatus, SessionEndReason, SessionEventType } = sessionv1;
const PASSWORD = 'correct horse battery staple';

describe('session-service over gRPC (memory adapters, fake clock)', () => {
  let app: TestApp;
  let server: GrpcServer;
  let address: string;
  let gateway: SessionClient;

  beforeAll(async () => {
    app = testApp({ settings: { maxPerUser: 50 } });
    server = createSessionServer(app, {
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 64 * 1024,
      serviceKeys: KEYS,
    });
    address = `127.0.0.1:${await server.listen()}`;
    gateway = sessionClient(address);
  });
  afterAll(async () => {
    gateway.close();
    await server.shutdown(1_000);
  });
  beforeEach(() => app.clock.set(T0));

  async function signUp(email = `${randomUUID()}@example.com`) {
    const userId = randomUUID();
    app.credentials.addUser(email, PASSWORD, userId);
    app.permissions.grant(userId, 'session.read:own', 'session.list:own', 'session.end:own');
    const { session, token } = await gateway.startSession({
      email,
      password: PASSWORD,
      client: { ipAddress: '198.51.100.4', userAgent: 'curl/8' },
      requestId: '',
    });
    return { userId, email, session: session!, token };
  }

  it('starts a session and validates its token', async () => {
    const { userId, session, token } = await signUp();
    expect(session).toMatchObject({
      userId,
      status: SessionStatus.SESSION_STATUS_ACTIVE,
      client: { ipAddress: '198.51.100.4', userAgent: 'curl/8' },
    });
    expect(session.expireTime).toEqual(new Date(T0.getTime() + 24 * HOUR));
    app.clock.advance(MINUTE);
    const { session: validated } = await gateway.validateSession({ token });
    expect(validated).toMatchObject({
      id: session.id,
      lastSeenTime: app.clock.now(),
      idleExpireTime: new Date(app.clock.now().getTime() + 30 * MINUTE),
    });
  });

  it('refuses a token past its idle or absolute expiry with the sweeper stopped', async () => {
    const idle = await signUp();
    app.clock.advance(30 * MINUTE);
    await expect(gateway.validateSession({ token: idle.token })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_EXPIRED',
    });

    app.clock.set(T0);
    const busy = await signUp();
    for (let t = 0; t < 24 * HOUR - 20 * MINUTE; t += 20 * MINUTE) {
      app.clock.advance(20 * MINUTE);
      await gateway.validateSession({ token: busy.token });
    }
    app.clock.set(new Date(T0.getTime() + 24 * HOUR));
    await expect(gateway.validateSession({ token: busy.token })).rejects.toMatchObject({
      reason: 'SESSION_EXPIRED',
    });
    await expect(
      gateway.getSession({ sessionId: busy.session.id }, bearer(busy.token)),
    ).rejects.toMatchObject({ reason: 'SESSION_EXPIRED' });
  });

  it('maps every refusal to its code and reason', async () => {
    const { email, token } = await signUp();
    await expect(
      gateway.startSession({ email, password: 'wrong password', requestId: '' }),
    ).rejects.toMatchObject({ kind: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    await expect(
      gateway.startSession({ email: 'nobody@example.com', password: PASSWORD, requestId: '' }),
    ).rejects.toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    await expect(gateway.validateSession({ token: 'wst_nope' })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_NOT_FOUND',
    });
    await expect(
      gateway.startSession({
        email: '',
        password: '',
        client: { ipAddress: 'nope', userAgent: '' },
        requestId: '',
      }),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'email' }, { field: 'password' }, { field: 'client.ip_address' }],
    });
    await expect(
      gateway.getSession({ sessionId: 'not-a-uuid' }, bearer(token)),
    ).rejects.toMatchObject({ kind: 'INVALID_ARGUMENT' });
    await expect(
      gateway.listActiveSessions(
        { userId: randomUUID(), pageSize: 0, pageToken: '' },
        bearer(token),
      ),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED' });
    await expect(gateway.getSession({ sessionId: randomUUID() })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'USER_TOKEN_REQUIRED',
    });
  });

  it('refuses callers without a known service identity', async () => {
    const stranger = sessionClient(address, 'not-a-real-service-key');
    await expect(stranger.validateSession({ token: 'wst_x' })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SERVICE_IDENTITY_REQUIRED',
    });
    stranger.close();
  });

  it('answers undecodable request bytes with INVALID_ARGUMENT, not INTERNAL', async () => {
    const raw = new Client(address, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('x-warden-service-key', KEYS.gateway);
    const code = await new Promise<number>((resolve) =>
      raw.makeUnaryRequest(
        '/warden.session.v1.SessionService/ValidateSession',
        (value: Buffer) => value,
        (value: Buffer) => value,
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        metadata,
        (error) => resolve(error?.code ?? status.OK),
      ),
    );
    raw.close();
    expect(code).toBe(status.INVALID_ARGUMENT);
  });

  it('resolves a bearer token into the user principal, so :own grants work', async () => {
    const alice = await signUp();
    const bob = await signUp();
    await expect(
      gateway.getSession({ sessionId: alice.session.id }, bearer(alice.token)),
    ).resolves.toMatchObject({ session: { id: alice.session.id } });
    await expect(
      gateway.getSession({ sessionId: alice.session.id }, bearer(bob.token)),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED' });
    await expect(
      gateway.getSession({ sessionId: alice.session.id }, bearer('wst_forged')),
    ).rejects.toMatchObject({ kind: 'UNAUTHENTICATED', reason: 'SESSION_NOT_FOUND' });
  });

  it('refreshes, lists, ends one and ends the rest', async () => {
    const { userId, token } = await signUp();
    const { session: second } = await gateway.startSession({
      email: (await signUpAgain(userId)).email,
      password: PASSWORD,
      requestId: '',
    });
    const refreshed = await gateway.refreshSession({ token });
    await expect(gateway.validateSession({ token })).rejects.toMatchObject({
      reason: 'SESSION_NOT_FOUND',
    });
    const auth = bearer(refreshed.token);
    const { sessions } = await gateway.listActiveSessions(
      { userId, pageSize: 10, pageToken: '' },
      auth,
    );
    expect(sessions.map((s) => s.id).sort()).toEqual([refreshed.session!.id, second!.id].sort());
    const { session: ended } = await gateway.endSession({ sessionId: second!.id }, auth);
    expect(ended).toMatchObject({
      status: SessionStatus.SESSION_STATUS_ENDED,
      endReason: SessionEndReason.SESSION_END_REASON_LOGOUT,
    });
    await expect(
      gateway.endUserSessions({ userId, exceptSessionId: refreshed.session!.id }, auth),
    ).resolves.toEqual({ endedCount: 0 });
    await expect(gateway.endUserSessions({ userId, exceptSessionId: '' }, auth)).resolves.toEqual({
      endedCount: 1,
    });
    await expect(gateway.validateSession({ token: refreshed.token })).rejects.toMatchObject({
      reason: 'SESSION_ENDED',
    });

    async function signUpAgain(id: string) {
      const email = `${randomUUID()}@example.com`;
      app.credentials.addUser(email, PASSWORD, id);
      return { email };
    }
  });

  it('replays StartSession by request_id', async () => {
    const { email } = await signUp();
    const request = { email, password: PASSWORD, requestId: randomUUID() };
    const first = await gateway.startSession(request);
    await expect(gateway.startSession(request)).resolves.toEqual(first);
    // The password is verified before the record is looked up: a wrong one is a wrong password.
    await expect(
      gateway.startSession({ ...request, password: 'other password' }),
    ).rejects.toMatchObject({ kind: 'UNAUTHENTICATED', reason: 'INVALID_CREDENTIALS' });
    await expect(
      gateway.startSession({ ...request, client: { ipAddress: '192.0.2.1', userAgent: 'other' } }),
    ).rejects.toMatchObject({ kind: 'ALREADY_EXISTS', reason: 'IDEMPOTENCY_KEY_REUSED' });
  });

  describe('WatchSessions', () => {
    const eventFor = (
      userId: string,
      type = SessionEventType.SESSION_EVENT_TYPE_ENDED,
      padding = '',
    ) => ({
      userId,
      event: {
        eventId: randomUUID(),
        type,
        session: sessionv1.Session.fromPartial({
          id: randomUUID(),
          userId,
          status: SessionStatus.SESSION_STATUS_ENDED,
          endReason: 0,
          client: { ipAddress: '', userAgent: padding },
        }),
        eventTime: new Date(),
      },
    });

    it('streams the events of the watched user to a named service', async () => {
      const alice = randomUUID();
      const watcher = watch(address, alice);
      await waitFor(() => app.hub.watchers === 1, { what: 'the watcher to subscribe' });
      app.hub.publish(eventFor(randomUUID()));
      const mine = eventFor(alice);
      app.hub.publish(mine);
      await waitFor(() => watcher.events.length === 1, { what: 'the event' });
      expect(watcher.events[0]).toMatchObject({
        eventId: mine.event.eventId,
        type: SessionEventType.SESSION_EVENT_TYPE_ENDED,
        session: { userId: alice },
      });
      watcher.cancel();
      await watcher.ended;
      await waitFor(() => app.hub.watchers === 0, { what: 'the server to release the watcher' });
    });

    it("holds a user token carried by the gateway to the user's own sessions", async () => {
      const player = await signUp();
      for (const userId of [randomUUID(), '']) {
        const refused = watch(address, userId, KEYS.gateway, player.token);
        await expect(refused.ended).resolves.toMatchObject({
          code: status.PERMISSION_DENIED,
          details: 'missing permission session.list',
        });
      }
      expect(app.hub.watchers).toBe(0);
      const own = watch(address, player.userId, KEYS.gateway, player.token);
      await waitFor(() => app.hub.watchers === 1, { what: 'the own watcher to subscribe' });
      const mine = eventFor(player.userId);
      app.hub.publish(mine);
      await waitFor(() => own.events.length === 1, { what: 'the own event' });
      expect(own.events[0]).toMatchObject({ eventId: mine.event.eventId });
      own.cancel();
      await own.ended;
      await waitFor(() => app.hub.watchers === 0, { what: 'the server to release the watcher' });
    });

    it('lets a user holding session.list watch everyone through the gateway', async () => {
      const support = await signUp();
      app.permissions.grant(support.userId, 'session.list');
      const watcher = watch(address, '', KEYS.gateway, support.token);
      await waitFor(() => app.hub.watchers === 1, { what: 'the watcher to subscribe' });
      const someone = eventFor(randomUUID());
      app.hub.publish(someone);
      await waitFor(() => watcher.events.length === 1, { what: 'the event' });
      expect(watcher.events[0]).toMatchObject({ eventId: someone.event.eventId });
      watcher.cancel();
      await watcher.ended;
      await waitFor(() => app.hub.watchers === 0, { what: 'the server to release the watcher' });
    });

    it('is refused to services not named in watch.allowed_services', async () => {
      const watcher = watch(address, '', KEYS['user-service']);
      await expect(watcher.ended).resolves.toMatchObject({ code: status.PERMISSION_DENIED });
    });

    it('cuts off a watcher that stops reading with RESOURCE_EXHAUSTED instead of buffering', async () => {
      const watcher = watch(address);
      await waitFor(() => app.hub.watchers === 1, { what: 'the watcher to subscribe' });
      watcher.stream.pause();
      const padding = 'p'.repeat(4_000);
      for (let i = 0; i < 5_000 && app.hub.watchers > 0; i++) {
        app.hub.publish(
          eventFor(randomUUID(), SessionEventType.SESSION_EVENT_TYPE_STARTED, padding),
        );
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(app.hub.watchers).toBe(0);
      watcher.stream.resume();
      await expect(watcher.ended).resolves.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    });

    it('ends streams with UNAVAILABLE when the service shuts them down', async () => {
      const watcher = watch(address);
      await waitFor(() => app.hub.watchers === 1, { what: 'the watcher to subscribe' });
      app.hub.failAll(new AppError('UNAVAILABLE', 'SHUTTING_DOWN', 'shutting down'));
      await expect(watcher.ended).resolves.toMatchObject({ code: status.UNAVAILABLE });
    });
  });
});
