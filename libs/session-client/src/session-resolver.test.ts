import type { NatsConnection } from '@nats-io/transport-node';
import type { CallContext } from '@warden/bus';
import { AppError } from '@warden/errors';
import { newEvent, toNatsHeaders, type NatsEventMessage } from '@warden/events';
import { GrpcServer } from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { sessionEventsV1, sessionv1 } from '@warden/proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSessionResolver, type SessionResolver } from './session-resolver.js';

const logger = createLogger({ service: 'session-client-test', level: 'silent' });
const KEY = 'dev-key-gateway-000000000';
const ctx: CallContext = { service: { name: 'gateway' }, requestId: 'r-1' };
const HOUR = 3_600_000;

/** session-service as far as ValidateSession goes: tokens in a table, and a count of calls. */
class FakeSessionService {
  readonly sessions = new Map<string, sessionv1.Session>();
  readonly ended = new Set<string>();
  calls = 0;
  failWith: AppError | undefined;

  add(
    token: string,
    sessionId: string,
    userId: string,
    idleExpireTime = new Date(Date.now() + HOUR),
    assuranceLevel = sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
  ): void {
    this.sessions.set(
      token,
      sessionv1.Session.fromPartial({
        id: sessionId,
        userId,
        status: sessionv1.SessionStatus.SESSION_STATUS_ACTIVE,
        endReason: sessionv1.SessionEndReason.SESSION_END_REASON_UNSPECIFIED,
        expireTime: new Date(Date.now() + 24 * HOUR),
        idleExpireTime,
        assuranceLevel,
      }),
    );
  }

  handlers() {
    const unused = async (): Promise<never> => {
      throw new AppError('FAILED_PRECONDITION', 'NOT_IN_FAKE', 'not part of this fake');
    };
    return {
      validateSession: async (request: sessionv1.ValidateSessionRequest) => {
        this.calls++;
        if (this.failWith) throw this.failWith;
        const session = this.sessions.get(request.token);
        if (!session)
          throw new AppError('UNAUTHENTICATED', 'SESSION_NOT_FOUND', 'session not found');
        if (this.ended.has(session.id))
          throw new AppError('UNAUTHENTICATED', 'SESSION_ENDED', 'session ended');
        return { session };
      },
      startSession: unused,
      getSession: unused,
      listActiveSessions: unused,
      refreshSession: unused,
      endSession: unused,
      endUserSessions: unused,
      watchSessions: unused,
      completeMfa: unused,
      getJwks: unused,
      watchRevocations: unused,
      listAuditEvents: unused,
    };
  }
}

type Callback = (error: Error | null, msg: NatsEventMessage) => void;

/** The slice of a NatsConnection the resolver uses: a subscription and connection statuses. */
class FakeNats {
  private callback: Callback | undefined;
  private readonly statuses: Array<(value: IteratorResult<{ type: string }>) => void> = [];
  private readonly queued: Array<{ type: string }> = [];

  subscribe(_subject: string, options: { callback: Callback }) {
    this.callback = options.callback;
    return { unsubscribe: () => (this.callback = undefined) };
  }

  isClosed(): boolean {
    return false;
  }

  status() {
    let stopped = false;
    const next = (): Promise<IteratorResult<{ type: string }>> => {
      if (stopped) return Promise.resolve({ done: true, value: undefined });
      const queued = this.queued.shift();
      if (queued) return Promise.resolve({ done: false, value: queued });
      return new Promise((resolve) => this.statuses.push(resolve));
    };
    return {
      [Symbol.asyncIterator]: () => ({ next }),
      stop: () => {
        stopped = true;
        for (const resolve of this.statuses.splice(0)) resolve({ done: true, value: undefined });
      },
    };
  }

  ended(sessionId: string, source = 'session-service'): void {
    const data = sessionEventsV1.SessionEnded.encode({
      sessionId,
      userId: 'u',
      endReason: 1,
    }).finish();
    this.deliver('warden.session.v1.ended', data, source);
  }

  started(sessionId: string): void {
    const data = sessionEventsV1.SessionStarted.encode(
      sessionEventsV1.SessionStarted.fromPartial({ sessionId, userId: 'u' }),
    ).finish();
    this.deliver('warden.session.v1.started', data);
  }

  /** A message as the relay publishes it: CloudEvents headers, protobuf body. */
  private deliver(subject: string, data: Uint8Array, source = 'session-service'): void {
    const headers = toNatsHeaders(newEvent({ type: subject, source, payload: data }));
    this.callback?.(null, { subject, data, headers });
  }

  emitStatus(type: string): void {
    const resolve = this.statuses.shift();
    if (resolve) resolve({ done: false, value: { type } });
    else this.queued.push({ type });
  }
}

describe('createSessionResolver', () => {
  const fake = new FakeSessionService();
  const server = new GrpcServer({
    serviceName: 'fake-session-service',
    logger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 1 << 20,
    serviceKeys: { gateway: KEY },
  });
  server.addService(sessionv1.SessionServiceService, fake.handlers());
  let address = '';
  let nats: FakeNats;
  let resolver: SessionResolver;

  beforeAll(async () => {
    address = `127.0.0.1:${await server.listen()}`;
  });
  afterAll(() => server.shutdown(1_000));
  beforeEach(async () => {
    await resolver?.close();
    fake.sessions.clear();
    fake.ended.clear();
    fake.calls = 0;
    nats = new FakeNats();
    resolver = createSessionResolver({
      address,
      serviceKey: KEY,
      logger,
      nc: nats as unknown as NatsConnection,
    });
  });

  it('resolves a token to its user and session, then answers from the cache', async () => {
    fake.add('wst_alice', 's-alice', 'u-alice');
    expect(await resolver.resolve('wst_alice', ctx)).toEqual({
      userId: 'u-alice',
      sessionId: 's-alice',
      assuranceLevel: 'AAL1',
    });
    expect(await resolver.resolve('wst_alice', ctx)).toEqual({
      userId: 'u-alice',
      sessionId: 's-alice',
      assuranceLevel: 'AAL1',
    });
    expect(fake.calls).toBe(1);
  });

  it("carries the session's assurance level: AAL2 after a second factor", async () => {
    const later = new Date(Date.now() + HOUR);
    fake.add('wst_bob', 's-bob', 'u-bob', later, sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2);
    expect(await resolver.resolve('wst_bob', ctx)).toEqual({
      userId: 'u-bob',
      sessionId: 's-bob',
      assuranceLevel: 'AAL2',
    });
  });

  it("carries when the session's user signed in (its create time) for privileged changes", async () => {
    const signedIn = new Date(Date.now() - 60_000);
    fake.add('wst_carol', 's-carol', 'u-carol');
    fake.sessions.set('wst_carol', { ...fake.sessions.get('wst_carol')!, createTime: signedIn });
    expect(await resolver.resolve('wst_carol', ctx)).toMatchObject({
      userId: 'u-carol',
      authenticatedAt: signedIn,
    });
  });

  it('asks once for concurrent resolves of one token', async () => {
    fake.add('wst_alice', 's-alice', 'u-alice');
    await Promise.all(Array.from({ length: 5 }, () => resolver.resolve('wst_alice', ctx)));
    expect(fake.calls).toBe(1);
  });

  it('passes the refusal reason through as UNAUTHENTICATED', async () => {
    await expect(resolver.resolve('wst_unknown', ctx)).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_NOT_FOUND',
    });
    fake.add('wst_gone', 's-gone', 'u-gone');
    fake.ended.add('s-gone');
    await expect(resolver.resolve('wst_gone', ctx)).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_ENDED',
    });
  });

  it('refuses what cannot be a token without asking', async () => {
    await expect(resolver.resolve('not-a-token', ctx)).rejects.toMatchObject({
      reason: 'SESSION_NOT_FOUND',
    });
    await expect(resolver.resolve(`wst_${'a'.repeat(600)}`, ctx)).rejects.toMatchObject({
      reason: 'SESSION_NOT_FOUND',
    });
    expect(fake.calls).toBe(0);
  });

  it('drops a session on its ended event and asks again', async () => {
    fake.add('wst_alice', 's-alice', 'u-alice');
    await resolver.resolve('wst_alice', ctx);
    fake.ended.add('s-alice');
    nats.ended('s-alice');
    await expect(resolver.resolve('wst_alice', ctx)).rejects.toMatchObject({
      reason: 'SESSION_ENDED',
    });
    expect(fake.calls).toBe(2);
  });

  it('keeps other sessions cached when one ends, and ignores started events', async () => {
    fake.add('wst_alice', 's-alice', 'u-alice');
    fake.add('wst_bob', 's-bob', 'u-bob');
    await resolver.resolve('wst_alice', ctx);
    await resolver.resolve('wst_bob', ctx);
    nats.ended('s-alice');
    nats.started('s-bob');
    await resolver.resolve('wst_bob', ctx);
    expect(fake.calls).toBe(2);
  });

  it('ignores an ended event that session-service did not send, and counts it', async () => {
    await resolver.close();
    const counted: Array<Record<string, string>> = [];
    resolver = createSessionResolver({
      address,
      serviceKey: KEY,
      logger,
      nc: nats as unknown as NatsConnection,
      metrics: { rejected: { inc: (labels) => void counted.push(labels) } },
    });
    fake.add('wst_alice', 's-alice', 'u-alice');
    await resolver.resolve('wst_alice', ctx);
    nats.ended('s-alice', 'user-service');
    await resolver.resolve('wst_alice', ctx);
    expect(fake.calls).toBe(1);
    expect(counted).toEqual([
      { subject: 'warden.session.v1.>', source: 'user-service', reason: 'source_not_owner' },
    ]);
  });

  it('forgets everything on a NATS disconnect and caches nothing until it reconnects', async () => {
    fake.add('wst_alice', 's-alice', 'u-alice');
    await resolver.resolve('wst_alice', ctx);
    nats.emitStatus('disconnect');
    await new Promise((resolve) => setImmediate(resolve));
    await resolver.resolve('wst_alice', ctx);
    await resolver.resolve('wst_alice', ctx);
    expect(fake.calls).toBe(3);
    nats.emitStatus('reconnect');
    await new Promise((resolve) => setImmediate(resolve));
    await resolver.resolve('wst_alice', ctx);
    await resolver.resolve('wst_alice', ctx);
    expect(fake.calls).toBe(4);
  });

  it('never caches past the session idle expiry', async () => {
    let now = Date.now();
    await resolver.close();
    resolver = createSessionResolver({
      address,
      serviceKey: KEY,
      logger,
      nc: nats as unknown as NatsConnection,
      now: () => now,
    });
    fake.add('wst_alice', 's-alice', 'u-alice', new Date(now + 1_000));
    await resolver.resolve('wst_alice', ctx);
    now += 1_000;
    await resolver.resolve('wst_alice', ctx);
    expect(fake.calls).toBe(2);
  });

  it('caches nothing without NATS, since it could not hear revocations', async () => {
    await resolver.close();
    resolver = createSessionResolver({ address, serviceKey: KEY, logger });
    fake.add('wst_alice', 's-alice', 'u-alice');
    await resolver.resolve('wst_alice', ctx);
    await resolver.resolve('wst_alice', ctx);
    expect(fake.calls).toBe(2);
  });

  it('reports an unreachable session-service as UNAVAILABLE', async () => {
    const lost = createSessionResolver({
      address: '127.0.0.1:1',
      serviceKey: KEY,
      logger,
      deadlineMs: 500,
    });
    const error = (await lost.resolve('wst_alice', ctx).catch((e) => e)) as AppError;
    await lost.close();
    // Generic for the caller, whatever grpc-js said; the address stays in the cause, for the log.
    expect([error.kind, error.reason, error.message]).toEqual([
      'UNAVAILABLE',
      'SESSION_SERVICE_UNAVAILABLE',
      'session service unavailable',
    ]);
    expect(error.metadata).toEqual({});
    expect((error.cause as AppError).kind).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
  });

  it('reports a session-service failure as UNAVAILABLE, not as its message', async () => {
    fake.failWith = new AppError('INTERNAL', 'DB_DOWN', 'pg at 10.0.0.5:5432 refused');
    const error = (await resolver.resolve('wst_alice', ctx).catch((e) => e)) as AppError;
    fake.failWith = undefined;
    expect([error.kind, error.reason, error.message]).toEqual([
      'UNAVAILABLE',
      'SESSION_SERVICE_UNAVAILABLE',
      'session service unavailable',
    ]);
  });

  it("reports a refused service key as our own misconfiguration (INTERNAL), not the user's token", async () => {
    const misconfigured = createSessionResolver({ address, serviceKey: 'wrong-key', logger });
    const error = (await misconfigured.resolve('wst_alice', ctx).catch((e) => e)) as AppError;
    await misconfigured.close();
    expect([error.kind, error.reason]).toEqual(['INTERNAL', 'SESSION_CHECK_REJECTED']);
  });
});
