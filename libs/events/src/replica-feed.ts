import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { fromNatsMessage, type EventEnvelope } from './envelope.js';
import { EventSourceCheck, type EventMetrics } from './event-source.js';

export type { EventMetrics };
import type { Logger } from './logger.js';

export interface ReplicaSubject {
  /** A subject or wildcard, e.g. `warden.session.v1.>`. */
  subject: string;
  /** The ce-source its events must carry; by default the service owning the subject's context. */
  source?: string;
}

/** Why events may have been missed: whatever was learned from them must be thrown away. */
export type GapReason = 'disconnected' | 'reconnected' | 'error';

export interface ReplicaHandlers {
  /** An event from the subject's owner, with the subject it came on; a throw is logged, the feed goes on. */
  onEvent(event: EventEnvelope, subject: string): void;
  onGap(why: GapReason): void;
  /** Told before the gap on a disconnect and after it on a reconnect. */
  onConnected?(connected: boolean): void;
}

/** What a client whose cache follows a peer's events takes (the authz checker, the session resolver). */
export interface FollowerOptions {
  /** The events that keep the cache honest on every replica; without them nothing is cached. */
  nc?: NatsConnection;
  /** Counts the events dropped unapplied (forged source, undecodable). */
  metrics?: Pick<EventMetrics, 'rejected'>;
}

export interface ReplicaFeed {
  stop(): Promise<void>;
}

export interface ReplicaFeedOptions {
  logger: Logger;
  /** Counts dropped events in `rejected` (bad source, undecodable). */
  metrics?: Pick<EventMetrics, 'rejected'>;
}

/**
 * Every replica hears every event on `subjects` from now on (core NATS, no queue group: a durable
 * would split them between replicas), e.g. to drop cache entries. Core NATS keeps nothing for a
 * disconnected client, so a disconnect, a reconnect and a subscription error are each a gap.
 * Events whose ce-source does not own their subject, and undecodable ones, are dropped and counted.
 */
export function followReplicaEvents(
  nc: NatsConnection,
  subjects: readonly ReplicaSubject[],
  handlers: ReplicaHandlers,
  options: ReplicaFeedOptions,
): ReplicaFeed {
  const { logger, metrics } = options;
  // A failing handler is logged; it must not end the subscription or the status watch.
  const safely = (run: () => void, context: object) => {
    try {
      run();
    } catch (err) {
      logger.error({ ...context, err }, 'replica event handler failed');
    }
  };
  const subscriptions: Subscription[] = subjects.map(({ subject, source }) => {
    const sources = new EventSourceCheck({
      subscription: subject,
      logger,
      ...(source === undefined ? {} : { expectedSource: source }),
      ...(metrics ? { rejected: metrics.rejected } : {}),
    });
    return nc.subscribe(subject, {
      callback: (error, msg) => {
        if (error) {
          logger.warn({ err: error, subject }, 'replica event subscription error');
          safely(() => handlers.onGap('error'), { subject });
          return;
        }
        let event: EventEnvelope;
        try {
          event = fromNatsMessage(msg);
        } catch (err) {
          metrics?.rejected.inc({ subject, source: 'unknown', reason: 'undecodable' });
          logger.warn({ err, subject: msg.subject }, 'undecodable event dropped');
          return;
        }
        if (!sources.admits(msg.subject, event)) return;
        safely(() => handlers.onEvent(event, msg.subject), {
          subject: msg.subject,
          eventId: event.id,
        });
      },
    });
  });
  // nats.js returns a QueuedIterator whose stop() ends the loop; the public type hides it.
  const statuses = nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
  const watching = (async () => {
    for await (const status of statuses) {
      if (status.type === 'disconnect') {
        logger.warn(
          { subjects: subjects.map((s) => s.subject) },
          'lost NATS: replica events may be missed',
        );
        safely(() => handlers.onConnected?.(false), { status: status.type });
        safely(() => handlers.onGap('disconnected'), { status: status.type });
      } else if (status.type === 'reconnect') {
        safely(() => handlers.onGap('reconnected'), { status: status.type });
        safely(() => handlers.onConnected?.(true), { status: status.type });
      }
    }
  })();
  return {
    async stop() {
      for (const subscription of subscriptions) subscription.unsubscribe();
      statuses.stop?.();
      await watching;
    },
  };
}
