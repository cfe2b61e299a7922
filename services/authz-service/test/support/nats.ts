import { randomBytes } from 'node:crypto';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureStream, newEvent, toNatsHeaders, type EventEnvelope } from '@warden/events';
import { sessionEventsV1, sessionv1, userEventsV1 } from '@warden/proto';
import { natsConnectOptions, type NatsUser } from '@warden/testing';

export interface TestNats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** `ops` makes and drops test streams; a service's user publishes and consumes as that service. */
export async function connectTestNats(user: NatsUser = 'ops'): Promise<TestNats> {
  const nc = await connect(natsConnectOptions(user));
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** A user-events stream of this test's own, `T_USER_<hex>` on `t<hex>.user.v1.>`. */
export async function aUserEventsStream(jsm: JetStreamManager) {
  const hex = randomBytes(4).toString('hex');
  const prefix = `t${hex}.user.v1.`;
  const name = `T_USER_${hex}`;
  await ensureStream(jsm, { name, subjects: [`${prefix}>`] });
  return {
    name,
    prefix,
    filterSubject: `${prefix}>`,
    durable: `authz_test_${hex}`,
    /** `legacyEmail`: what events carried before v1.1 (now always empty, and never read). */
    registered: (userId: string, legacyEmail = ''): EventEnvelope =>
      newEvent({
        type: `${prefix}registered`,
        source: 'user-service',
        subjectId: userId,
        payload: userEventsV1.UserRegistered.encode({
          userId,
          email: legacyEmail,
          displayName: '',
          occurTime: new Date(),
        }).finish(),
      }),
    emailVerified: (userId: string): EventEnvelope =>
      newEvent({
        type: `${prefix}email_verified`,
        source: 'user-service',
        subjectId: userId,
        payload: userEventsV1.EmailVerified.encode({ userId, occurTime: new Date() }).finish(),
      }),
    deleted: (userId: string): EventEnvelope =>
      newEvent({
        type: `${prefix}deleted`,
        source: 'user-service',
        subjectId: userId,
        payload: userEventsV1.UserDeleted.encode({ userId, occurTime: new Date() }).finish(),
      }),
    drop: () => jsm.streams.delete(name),
  };
}

/** Publishes like the user-service relay; `asRedelivery` skips JetStream's dedupe to force a second delivery. */
export async function publish(
  js: JetStreamClient,
  event: EventEnvelope,
  asRedelivery = false,
): Promise<void> {
  const headers = toNatsHeaders(event);
  if (asRedelivery)
    headers.set('Nats-Msg-Id', `${event.id}-again-${randomBytes(3).toString('hex')}`);
  await js.publish(event.type, event.payload, { headers });
}

/** A session-events stream of this test's own, `T_SESSION_<hex>` on `t<hex>.session.v1.>`. */
export async function aSessionEventsStream(jsm: JetStreamManager) {
  const hex = randomBytes(4).toString('hex');
  const prefix = `t${hex}.session.v1.`;
  const name = `T_SESSION_${hex}`;
  await ensureStream(jsm, { name, subjects: [`${prefix}>`] });
  const event = (kind: 'ended' | 'expired', sessionId: string, userId: string, occurTime: Date) =>
    newEvent({
      type: `${prefix}${kind}`,
      source: 'session-service',
      subjectId: sessionId,
      payload: (kind === 'ended'
        ? sessionEventsV1.SessionEnded.encode({
            sessionId,
            userId,
            endReason: sessionv1.SessionEndReason.SESSION_END_REASON_LOGOUT,
            occurTime,
          })
        : sessionEventsV1.SessionExpired.encode({
            sessionId,
            userId,
            endReason: sessionv1.SessionEndReason.SESSION_END_REASON_IDLE_TIMEOUT,
            occurTime,
          })
      ).finish(),
    });
  return {
    name,
    prefix,
    filterSubject: `${prefix}>`,
    durable: `authz_sessions_test_${hex}`,
    ended: (sessionId: string, userId: string, occurTime = new Date()) =>
      event('ended', sessionId, userId, occurTime),
    expired: (sessionId: string, userId: string, occurTime = new Date()) =>
      event('expired', sessionId, userId, occurTime),
    refreshed: (sessionId: string, userId: string): EventEnvelope =>
      newEvent({
        type: `${prefix}refreshed`,
        source: 'session-service',
        subjectId: sessionId,
        payload: sessionEventsV1.SessionRefreshed.encode({ sessionId, userId }).finish(),
      }),
    drop: () => jsm.streams.delete(name),
  };
}
