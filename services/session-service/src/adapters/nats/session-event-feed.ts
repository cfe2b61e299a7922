import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { AppError } from '@warden/errors';
import {
  EventSourceCheck,
  fromNatsMessage,
  type EventEnvelope,
  type RejectedEventsCounter,
} from '@warden/events';
import type { Logger } from '@warden/logger';
import { sessionEventsV1, sessionv1 } from '@warden/proto';
import type { SessionCache } from '../../application/session-cache.js';
import type { WatchHub } from '../../application/watch-hub.js';
import { SESSION_SUBJECT_PREFIX } from '../events/session-event-envelope.js';
import type { WatchedEvent } from '../../mapping.js';

export interface SessionEventFeed {
  stop(): Promise<void>;
}

const { SessionStatus: Status, SessionEventType: EventType } = sessionv1;

/**
 * Every replica hears every session event with a plain NATS subscription (a durable consumer
 * would split them between replicas): cached sessions drop on ended/expired/refreshed, and the
 * events go out to WatchSessions streams. While NATS is disconnected events may be missed, so the
 * cache is bypassed and watchers are cut off with UNAVAILABLE (they reconnect and re-validate).
 * An event session-service did not send is dropped, logged and counted (`rejected`).
 */
export function followSessionEvents(
  nc: NatsConnection,
  cache: SessionCache,
  hub: WatchHub<WatchedEvent>,
  logger: Logger,
  rejected?: RejectedEventsCounter,
): SessionEventFeed {
  const subject = `${SESSION_SUBJECT_PREFIX}>`;
  const sources = new EventSourceCheck({
    subscription: subject,
    logger,
    ...(rejected ? { rejected } : {}),
  });
  const subscription = nc.subscribe(subject, {
    callback: (error, msg) => {
      if (error) {
        logger.warn({ err: error }, 'session event subscription error');
        return;
      }
      const watched = decode(msg, logger, sources);
      if (!watched) return;
      if (watched.event.type !== EventType.SESSION_EVENT_TYPE_STARTED)
        cache.dropSession(watched.event.session!.id);
      hub.publish(watched);
    },
  });
  // nats.js returns a QueuedIterator whose stop() ends the loop; the public type hides it.
  const statuses = nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
  const watching = (async () => {
    for await (const status of statuses) {
      if (status.type === 'disconnect') {
        logger.warn('lost NATS: session cache bypassed and watchers cut off until it reconnects');
        cache.setTrusted(false);
        hub.failAll(
          new AppError(
            'UNAVAILABLE',
            'EVENT_FEED_LOST',
            'session events are interrupted; reconnect and re-validate',
          ),
        );
      } else if (status.type === 'reconnect') {
        cache.setTrusted(true);
      }
    }
  })();
  return {
    async stop() {
      subscription.unsubscribe();
      statuses.stop?.();
      await watching;
    },
  };
}

function decode(msg: Msg, logger: Logger, sources: EventSourceCheck): WatchedEvent | undefined {
  let envelope: EventEnvelope;
  try {
    envelope = fromNatsMessage(msg);
    if (!sources.admits(msg.subject, envelope)) return undefined;
    const session = sessionOf(msg.subject.slice(SESSION_SUBJECT_PREFIX.length), envelope.payload);
    if (!session) return undefined;
    return {
      userId: session.session.userId,
      event: {
        eventId: envelope.id,
        type: session.type,
        session: session.session,
        eventTime: envelope.time,
      },
    };
  } catch (error) {
    logger.warn({ err: error, subject: msg.subject }, 'undecodable session event ignored');
    return undefined;
  }
}

function sessionOf(
  kind: string,
  payload: Uint8Array,
): { type: sessionv1.SessionEventType; session: sessionv1.Session } | undefined {
  const base = { endReason: sessionv1.SessionEndReason.SESSION_END_REASON_UNSPECIFIED };
  switch (kind) {
    case 'started': {
      const e = sessionEventsV1.SessionStarted.decode(payload);
      return {
        type: EventType.SESSION_EVENT_TYPE_STARTED,
        session: {
          ...base,
          id: e.sessionId,
          userId: e.userId,
          status: Status.SESSION_STATUS_ACTIVE,
          createTime: e.occurTime,
          expireTime: e.expireTime,
          idleExpireTime: e.idleExpireTime,
        },
      };
    }
    case 'refreshed': {
      const e = sessionEventsV1.SessionRefreshed.decode(payload);
      return {
        type: EventType.SESSION_EVENT_TYPE_REFRESHED,
        session: {
          ...base,
          id: e.sessionId,
          userId: e.userId,
          status: Status.SESSION_STATUS_ACTIVE,
          expireTime: e.expireTime,
          idleExpireTime: e.idleExpireTime,
          lastSeenTime: e.occurTime,
        },
      };
    }
    case 'ended': {
      const e = sessionEventsV1.SessionEnded.decode(payload);
      return {
        type: EventType.SESSION_EVENT_TYPE_ENDED,
        session: {
          id: e.sessionId,
          userId: e.userId,
          status: Status.SESSION_STATUS_ENDED,
          endTime: e.occurTime,
          endReason: e.endReason,
        },
      };
    }
    case 'expired': {
      const e = sessionEventsV1.SessionExpired.decode(payload);
      return {
        type: EventType.SESSION_EVENT_TYPE_EXPIRED,
        session: {
          id: e.sessionId,
          userId: e.userId,
          status: Status.SESSION_STATUS_EXPIRED,
          endTime: e.occurTime,
          endReason: e.endReason,
        },
      };
    }
    default:
      return undefined;
  }
}
