import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isAppError } from '@warden/errors';
import { newEvent, toNatsHeaders } from '@warden/events';
import { authzEventsV1, sessionEventsV1, userEventsV1 } from '@warden/proto';
import { natsConnectOptionsFor, startWardenNats, type WardenNats } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamRevocationFeed } from '../src/adapters/nats/jetstream-revocation-feed.js';
import type {
  PositionedRevocation,
  RevocationStream,
} from '../src/application/queries/watch-revocations.js';
import { decodeCursor } from '../src/application/revocation-cursor.js';
import { silentLogger } from './support/test-app.js';

// A server of its own: the OUT_OF_RANGE case purges a stream, which must not touch other tests.
let nats: WardenNats;
let sessionNc: NatsConnection;
let publishers: Record<'user-service' | 'session-service' | 'authz-service', NatsConnection>;
let opsNc: NatsConnection;
let opsJsm: JetStreamManager;
let feed: JetStreamRevocationFeed;

beforeAll(async () => {
  nats = await startWardenNats();
  const as = (user: Parameters<typeof natsConnectOptionsFor>[1]) =>
    connect(natsConnectOptionsFor(nats, user));
  sessionNc = await as('session-service');
  publishers = {
    'user-service': await as('user-service'),
    'session-service': sessionNc,
    'authz-service': await as('authz-service'),
  };
  opsNc = await as('ops');
  opsJsm = await jetstreamManager(opsNc);
  feed = new JetStreamRevocationFeed(
    { js: jetstream(sessionNc), jsm: await jetstreamManager(sessionNc) },
    { capacity: 4, logger: silentLogger },
  );
});

afterAll(async () => {
  for (const nc of [publishers?.['user-service'], publishers?.['authz-service'], opsNc, sessionNc])
    await nc?.drain();
  await nats?.stop();
});

const T = new Date('2026-11-30T10:00:00.000Z');
type Source = keyof typeof publishers;

async function publish(source: Source, type: string, payload: Uint8Array): Promise<void> {
  const event = newEvent({ type, source, payload });
  await jetstream(publishers[source]).publish(type, payload, {
    msgID: event.id,
    headers: toNatsHeaders(event),
  });
}

const ended = (sessionId: string, userId: string) =>
  publish(
    'session-service',
    'warden.session.v1.ended',
    sessionEventsV1.SessionEnded.encode(
      sessionEventsV1.SessionEnded.fromPartial({ sessionId, userId, endReason: 1, occurTime: T }),
    ).finish(),
  );
const started = (sessionId: string, userId: string) =>
  publish(
    'session-service',
    'warden.session.v1.started',
    sessionEventsV1.SessionStarted.encode(
      sessionEventsV1.SessionStarted.fromPartial({ sessionId, userId, occurTime: T }),
    ).finish(),
  );
const disabled = (userId: string) =>
  publish(
    'user-service',
    'warden.user.v1.disabled',
    userEventsV1.UserDisabled.encode(
      userEventsV1.UserDisabled.fromPartial({ userId, reason: '', occurTime: T }),
    ).finish(),
  );
const passwordChanged = (userId: string, exceptSessionId: string) =>
  publish(
    'user-service',
    'warden.user.v1.password_changed',
    userEventsV1.UserPasswordChanged.encode(
      userEventsV1.UserPasswordChanged.fromPartial({ userId, exceptSessionId, occurTime: T }),
    ).finish(),
  );
const roleRevoked = (subjectId: string) =>
  publish(
    'authz-service',
    'warden.authz.v1.role_revoked',
    authzEventsV1.RoleRevoked.encode(
      authzEventsV1.RoleRevoked.fromPartial({
        subjectId,
        role: 'player',
        reason: 1,
        occurTime: T,
      }),
    ).finish(),
  );

async function take(stream: RevocationStream, n: number): Promise<PositionedRevocation[]> {
  const items: PositionedRevocation[] = [];
  const signal = new AbortController().signal;
  while (items.length < n) {
    const item = await stream.next(signal);
    if (!item) throw new Error('the feed ended');
    items.push(item);
  }
  return items;
}

const summary = (items: PositionedRevocation[]) =>
  items.map(({ revocation: r }) => `${r.kind} ${r.userId} ${r.sessionId}`);

describe('JetStreamRevocationFeed', () => {
  it('streams revocations from the three streams from now on, skipping what revokes nothing', async () => {
    const [u1, u2, s1, s2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await ended(randomUUID(), u1); // before the feed opens: not part of it
    const stream = await feed.open(undefined);
    await started(s1, u1);
    await ended(s1, u1);
    await disabled(u1);
    await passwordChanged(u2, s2);
    await roleRevoked(u2);
    const items = await take(stream, 4);
    stream.close();
    // Order holds within a stream; across streams the feed merges in arrival order.
    expect(summary(items).sort()).toEqual(
      [
        `SESSION_ENDED ${u1} ${s1}`,
        `USER_DISABLED ${u1} `,
        `PASSWORD_CHANGED ${u2} ${s2}`,
        `ROLES_CHANGED ${u2} `,
      ].sort(),
    );
    expect(items.every((i) => i.revocation.time.getTime() === T.getTime())).toBe(true);
    // Every cursor is a valid position, each one at or past the one before.
    const positions = items.map((i) => decodeCursor(i.cursor));
    for (let i = 1; i < positions.length; i++)
      for (const key of ['session', 'user', 'authz'] as const)
        expect(positions[i]![key]).toBeGreaterThanOrEqual(positions[i - 1]![key]);
  });

  it('resumes after a cursor with what was missed, nothing twice, even while the reader lagged', async () => {
    const user = randomUUID();
    const first = await feed.open(undefined);
    const sessions = Array.from({ length: 12 }, () => randomUUID());
    for (const id of sessions.slice(0, 3)) await ended(id, user);
    const [a, b] = await take(first, 2);
    first.close();
    // While no one reads: more than the read-ahead capacity (4) across two streams.
    for (const id of sessions.slice(3)) await ended(id, user);
    await disabled(user);
    const resumed = await feed.open(decodeCursor(b!.cursor));
    const rest = await take(resumed, 11);
    resumed.close();
    const endedIds = [a!, b!, ...rest]
      .filter((i) => i.revocation.kind === 'SESSION_ENDED')
      .map((i) => i.revocation.sessionId);
    expect(endedIds).toEqual(sessions);
    expect(rest.filter((i) => i.revocation.kind === 'USER_DISABLED')).toHaveLength(1);
  });

  it('resumes on another replica: a cursor is a position in the streams, not in one process', async () => {
    const otherNc = await connect(natsConnectOptionsFor(nats, 'session-service'));
    const replica = new JetStreamRevocationFeed(
      { js: jetstream(otherNc), jsm: await jetstreamManager(otherNc) },
      { capacity: 4, logger: silentLogger },
    );
    const user = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const first = await feed.open(undefined);
    await ended(ids[0]!, user);
    const [a] = await take(first, 1);
    first.close();
    await ended(ids[1]!, user);
    await roleRevoked(user);
    await ended(ids[2]!, user);
    const elsewhere = await replica.open(decodeCursor(a!.cursor));
    const rest = await take(elsewhere, 3);
    elsewhere.close();
    await otherNc.drain();
    expect(summary(rest).sort()).toEqual(
      [
        `SESSION_ENDED ${user} ${ids[1]}`,
        `ROLES_CHANGED ${user} `,
        `SESSION_ENDED ${user} ${ids[2]}`,
      ].sort(),
    );
  });

  it('answers OUT_OF_RANGE CURSOR_EXPIRED for a cursor whose next event is gone', async () => {
    const stream = await feed.open(undefined);
    await ended(randomUUID(), randomUUID());
    const [item] = await take(stream, 1);
    stream.close();
    await ended(randomUUID(), randomUUID());
    await ended(randomUUID(), randomUUID());
    const { state } = await opsJsm.streams.info('WARDEN_SESSION');
    // Retention drops everything up to the last event: the event right after the cursor is lost.
    await opsJsm.streams.purge('WARDEN_SESSION', { seq: state.last_seq });
    const error = await feed.open(decodeCursor(item!.cursor)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(error) && [error.kind, error.reason]).toEqual([
      'OUT_OF_RANGE',
      'CURSOR_EXPIRED',
    ]);
    // A position beyond the stream (a stream recreated since) is refused the same way.
    const beyond = { ...decodeCursor(item!.cursor), session: state.last_seq + 100 };
    await expect(feed.open(beyond)).rejects.toMatchObject({ reason: 'CURSOR_EXPIRED' });
  });
});
