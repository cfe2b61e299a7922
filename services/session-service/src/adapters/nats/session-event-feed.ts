import type { NatsConnection } from '@nats-io/transport-node';
import { followReplicaEvents, type EventMetrics, type ReplicaFeed } from '@warden/events';
import type { Logger } from '@warden/logger';
import { sessionv1 } from '@warden/proto';
import type { SessionCache } from '../../application/session-cache.js';
import type { WatchHub } from '../../application/watch-hub.js';
import { eventFeedLost } from '../../errors.js';
import { SESSION_SUBJECT_PREFIX, watchedEventOf, type WatchedEvent } from '../../mapping.js';

/**
 * Every replica hears every session event: cached sessions drop on ended/expired/refreshed, and
 * the events go out to WatchSessions streams. While NATS is disconnected the cache is bypassed;
 * after any gap watchers are cut off with UNAVAILABLE (they reconnect and re-validate).
 */
export function followSessionEvents(
  nc: NatsConnection,
  app: { cache: SessionCache; hub: WatchHub<WatchedEvent> },
  options: { logger: Logger; metrics?: Pick<EventMetrics, 'rejected'> },
): ReplicaFeed {
  const { cache, hub } = app;
  const { logger } = options;
  return followReplicaEvents(
    nc,
    [{ subject: `${SESSION_SUBJECT_PREFIX}>` }],
    {
      onEvent(event, subject) {
        let watched: WatchedEvent | undefined;
        try {
          watched = watchedEventOf(subject, event);
        } catch (err) {
          logger.warn({ err, subject, eventId: event.id }, 'undecodable session event ignored');
          return;
        }
        if (!watched) return;
        if (watched.event.type !== sessionv1.SessionEventType.SESSION_EVENT_TYPE_STARTED)
          cache.dropSession(watched.event.session!.id);
        hub.publish(watched);
      },
      onGap() {
        cache.clear();
        hub.failAll(eventFeedLost());
      },
      onConnected: (connected) => cache.setTrusted(connected),
    },
    options,
  );
}
