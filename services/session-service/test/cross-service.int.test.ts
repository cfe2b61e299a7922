import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createSessionResolver } from '@warden/session-client';
import { callUnary, createClient } from '@warden/grpc';
import { sessionv1, userv1 } from '@warden/proto';
import { natsConnectOptions, waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, KEYS, sessionClient, watch, type SessionClient } from './support/grpc.js';
import { startStack, type Stack } from './support/stack.js';
import { silentLogger } from './support/test-app.js';
import { findTokens } from './support/token-scan.js';

const { SessionEventType, SessionEndReason, SessionStatus } = sessionv1;
const PASSWORD = 'cross service password';
const ADMIN_EMAIL = `admin-${randomUUID()}@example.com`;
const MAX_FAILURES = 3;

let stack: Stack;
let users: userv1.UserServiceClient;
let a: SessionClient;
let b: SessionClient;
let short: SessionClient;
let nc: NatsConnection;
const issuedTokens: string[] = [];

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: { reason?: string }) => error.reason ?? 'unknown',
  );

async function register(
  email = `${randomUUID()}@example.com`,
): Promise<{ userId: string; email: string }> {
  const { user } = await callUnary(users.registerUser, users, {
    email,
    password: PASSWORD,
    displayName: 'Test',
    requestId: '',
  });
  return { userId: user!.id, email };
}

async function start(client: SessionClient, email: string) {
  const response = await client.startSession({
    email,
    password: PASSWORD,
    client: { ipAddress: '192.0.2.1', userAgent: 'cross-service' },
    requestId: '',
  });
  issuedTokens.push(response.token);
  return { session: response.session!, token: response.token };
}

/** Retries while authz has not yet given the new user its default role (it arrives by event). */
const onceAuthorized = <T>(call: () => Promise<T>) =>
  waitFor(
    () =>
      call().catch((error: { kind?: string }) =>
        error.kind === 'PERMISSION_DENIED' ? undefined : Promise.reject(error),
      ),
    {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'the default role to reach authz',
    },
  );

beforeAll(async () => {
  stack = await startStack({ adminEmail: ADMIN_EMAIL, maxFailures: MAX_FAILURES });
  users = createClient(userv1.UserServiceClient, { address: stack.user, serviceKey: KEYS.gateway });
  [a, b, short] = [
    sessionClient(stack.sessionA),
    sessionClient(stack.sessionB),
    sessionClient(stack.sessionShort),
  ];
  // The session resolver below stands in for user-service, so it hears events as that user.
  nc = await connect(natsConnectOptions('user-service'));
}, 90_000);

afterAll(async () => {
  for (const client of [a, b, short]) client?.close();
  users?.close();
  await nc?.drain();
  await stack?.stop();
}, 60_000);

describe('user-service, authz-service and session-service as processes', () => {
  it('signs in, validates, refreshes and ends across two session-service replicas; revocation reaches the other within 1 s', async () => {
    const { userId, email } = await register();
    const first = await start(a, email);
    expect(first.session).toMatchObject({
      userId,
      status: SessionStatus.SESSION_STATUS_ACTIVE,
      client: { ipAddress: '192.0.2.1' },
    });
    await expect(b.validateSession({ token: first.token })).resolves.toMatchObject({
      session: { id: first.session.id },
    });

    const refreshed = await a.refreshSession({ token: first.token });
    issuedTokens.push(refreshed.token);
    await waitFor(
      async () =>
        (await refusal(b.validateSession({ token: first.token }))) === 'SESSION_NOT_FOUND',
      {
        timeoutMs: 1_000,
        what: 'replica b to refuse the rotated-out token',
      },
    );

    await a.validateSession({ token: refreshed.token });
    await b.validateSession({ token: refreshed.token });
    const ended = await onceAuthorized(() =>
      b.endSession({ sessionId: first.session.id }, bearer(refreshed.token)),
    );
    const endedAt = Date.now();
    expect(ended.session).toMatchObject({
      status: SessionStatus.SESSION_STATUS_ENDED,
      endReason: SessionEndReason.SESSION_END_REASON_LOGOUT,
    });
    await waitFor(
      async () =>
        (await refusal(a.validateSession({ token: refreshed.token }))) === 'SESSION_ENDED',
      {
        timeoutMs: 1_000,
        intervalMs: 10,
        what: 'replica a to refuse the ended session',
      },
    );
    expect(Date.now() - endedAt).toBeLessThan(1_000);
  });

  it('refuses wrong passwords and unknown emails alike, then locks the account', async () => {
    const { email } = await register();
    const attempt = (overrides: Partial<sessionv1.StartSessionRequest>) =>
      a.startSession({ email, password: PASSWORD, requestId: '', ...overrides });
    await expect(attempt({ email: `nobody-${randomUUID()}@example.com` })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'INVALID_CREDENTIALS',
    });
    for (let i = 0; i < MAX_FAILURES; i++) {
      await expect(attempt({ password: 'wrong password' })).rejects.toMatchObject({
        kind: 'UNAUTHENTICATED',
        reason: 'INVALID_CREDENTIALS',
      });
    }
    await expect(attempt({})).rejects.toMatchObject({
      kind: 'RESOURCE_EXHAUSTED',
      reason: 'ACCOUNT_LOCKED',
    });
  });

  it('ends the remaining sessions of a disabled user, as WatchSessions shows, and refuses new ones', async () => {
    const admin = await register(ADMIN_EMAIL);
    const adminSession = await start(a, admin.email);
    const target = await register();
    const sessions = [await start(a, target.email), await start(b, target.email)];
    const watcher = watch(stack.sessionA, target.userId);
    await new Promise((resolve) => setTimeout(resolve, 200));

    await onceAuthorized(() =>
      callUnary(
        users.disableUser,
        users,
        { userId: target.userId, reason: 'test' },
        bearer(adminSession.token),
      ),
    );
    await waitFor(
      () =>
        watcher.events.filter((e) => e.type === SessionEventType.SESSION_EVENT_TYPE_ENDED)
          .length === 2,
      {
        timeoutMs: 15_000,
        what: 'both sessions to end',
      },
    );
    const endedIds = watcher.events
      .filter((e) => e.type === SessionEventType.SESSION_EVENT_TYPE_ENDED)
      .map((e) => e.session!.id);
    expect(endedIds.sort()).toEqual(sessions.map((s) => s.session.id).sort());
    expect(watcher.events.every((e) => e.session!.userId === target.userId)).toBe(true);
    expect(
      watcher.events.find((e) => e.type === SessionEventType.SESSION_EVENT_TYPE_ENDED)!.session!
        .endReason,
    ).toBe(SessionEndReason.SESSION_END_REASON_USER_DISABLED);
    for (const { token } of sessions)
      await expect(refusal(b.validateSession({ token }))).resolves.toBe('SESSION_ENDED');
    await expect(
      a.startSession({ email: target.email, password: PASSWORD, requestId: '' }),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'ACCOUNT_DISABLED',
    });
    watcher.cancel();
    await watcher.ended;
  });

  it('refuses sessions past their idle or absolute expiry with the sweeper stopped', async () => {
    const { email } = await register();
    const idle = await start(short, email);
    const busy = await start(short, email);
    const startedAt = Date.now();
    while (Date.now() - startedAt < 3_500) {
      await short.validateSession({ token: busy.token });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await expect(refusal(short.validateSession({ token: idle.token }))).resolves.toBe(
      'SESSION_EXPIRED',
    );
    await waitFor(
      async () =>
        (await refusal(short.validateSession({ token: busy.token }))) === 'SESSION_EXPIRED',
      {
        timeoutMs: 2_000,
        what: 'the absolute expiry',
      },
    );
    const { rows } = await stack.schemas.session.pool.query(
      'SELECT status FROM sessions WHERE id = ANY($1)',
      [[idle.session.id, busy.session.id]],
    );
    expect(rows.map((r) => r.status)).toEqual(['ACTIVE', 'ACTIVE']);
  });

  it('lets another service resolve bearer tokens with @warden/session-client, dropping them on revocation', async () => {
    const resolver = createSessionResolver({
      address: stack.sessionA,
      serviceKey: KEYS.gateway,
      nc,
      logger: silentLogger,
      cacheTtlMs: 60_000,
    });
    const { userId, email } = await register();
    const { session, token } = await start(b, email);
    const ctx = { service: { name: 'gateway' }, requestId: randomUUID() };
    await expect(resolver.resolve(token, ctx)).resolves.toEqual({
      userId,
      sessionId: session.id,
      assuranceLevel: 'AAL1',
      authenticatedAt: session.createTime,
    });
    await onceAuthorized(() => b.endSession({ sessionId: session.id }, bearer(token)));
    await waitFor(
      () =>
        resolver.resolve(token, ctx).then(
          () => false,
          (error: { reason?: string }) => error.reason === 'SESSION_ENDED',
        ),
      {
        timeoutMs: 1_000,
        what: 'the resolver to drop the ended session',
      },
    );
    await resolver.close();
  });

  it('keeps no token in any usable form in any database column', async () => {
    expect(issuedTokens.length).toBeGreaterThan(5);
    for (const schema of Object.values(stack.schemas))
      expect(await findTokens(schema, issuedTokens)).toEqual([]);
  });
});
