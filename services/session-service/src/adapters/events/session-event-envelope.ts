import { newEvent, type EventEnvelope } from '@warden/events';
import { sessionEventsV1 } from '@warden/proto';
import type { SessionEventKind } from '../../domain/session-events.js';
import type { Session } from '../../domain/session.js';
import { toProtoEndReason } from '../../mapping.js';

export const EVENT_SOURCE = 'session-service';
export const SESSION_SUBJECT_PREFIX = 'warden.session.v1.';

/** `warden.session.v1.<event>`: the NATS subject, and the envelope type. */
export const subjectOf = (kind: SessionEventKind): string => SESSION_SUBJECT_PREFIX + kind;

/** A session change as the protobuf envelope the outbox stores and the relay publishes. */
export function toEnvelope(
  kind: SessionEventKind,
  session: Session,
  traceparent?: string,
): EventEnvelope {
  const { payload, time } = encodePayload(kind, session);
  return newEvent({
    type: subjectOf(kind),
    source: EVENT_SOURCE,
    payload,
    subjectId: session.id,
    time,
    ...(traceparent ? { traceparent } : {}),
  });
}

function encodePayload(kind: SessionEventKind, s: Session): { payload: Uint8Array; time: Date } {
  switch (kind) {
    case 'started':
      return {
        time: s.createTime,
        payload: sessionEventsV1.SessionStarted.encode({
          sessionId: s.id,
          userId: s.userId,
          // Deprecated, always empty: IP and user agent are personal data, and the stream
          // keeps events after the user is erased.
          client: undefined,
          expireTime: s.expireTime,
          idleExpireTime: s.idleExpireTime,
          occurTime: s.createTime,
        }).finish(),
      };
    case 'refreshed':
      return {
        time: s.lastSeenTime,
        payload: sessionEventsV1.SessionRefreshed.encode({
          sessionId: s.id,
          userId: s.userId,
          expireTime: s.expireTime,
          idleExpireTime: s.idleExpireTime,
          occurTime: s.lastSeenTime,
        }).finish(),
      };
    case 'ended':
    case 'expired': {
      const time = s.endTime ?? new Date();
      const message = {
        sessionId: s.id,
        userId: s.userId,
        endReason: toProtoEndReason(s.endReason),
        occurTime: time,
      };
      const payload =
        kind === 'ended'
          ? sessionEventsV1.SessionEnded.encode(message).finish()
          : sessionEventsV1.SessionExpired.encode(message).finish();
      return { time, payload };
    }
  }
}

/** A `started` payload written before v1.1 without its client data; undefined when it has none. */
export function redactStartedPayload(payload: Uint8Array): Uint8Array | undefined {
  const event = sessionEventsV1.SessionStarted.decode(payload);
  if (!event.client) return undefined;
  return sessionEventsV1.SessionStarted.encode({ ...event, client: undefined }).finish();
}
