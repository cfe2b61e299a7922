import type { NatsConnection, Msg } from '@nats-io/transport-node';
import type { Logger } from '@warden/logger';
import { sessionEventsV1 } from '@warden/proto';

export const SESSION_EVENTS_SUBJECT = 'warden.session.v1.>';

export interface RevocationHandlers {
  /** A session's tokens stopped working (ended, expired, or rotated by a refresh). */
  revoked(sessionId: string): void;
  /** Events may have been missed (NATS disconnected): nothing cached can be trusted. */
  gap(): void;
  connected(isConnected: boolean): void;
}

export interface RevocationFeed {
  stop(): Promise<void>;
}

/**
 * Follows session events with a plain NATS subscription, so every process hears every event (a
 * JetStream durable would split them between replicas). A disconnect is reported as a gap.
 */
export function followRevocations(
  nc: NatsConnection,
  handlers: RevocationHandlers,
  logger: Logger,
): RevocationFeed {
  const subscription = nc.subscribe(SESSION_EVENTS_SUBJECT, {
    callback: (error, msg) => {
      if (error) {
        logger.warn({ err: error }, 'session event subscription error');
        handlers.gap();
        return;
      }
      const sessionId = revokedSessionId(msg, logger);
      if (sessionId) handlers.revoked(sessionId);
    },
  });
  // nats.js returns a QueuedIterator whose stop() ends the loop; the public type hides it.
  const statuses = nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
  const watching = (async () => {
    for await (const status of statuses) {
      if (status.type === 'disconnect') {
        logger.warn('session resolver lost NATS: nothing is cached until it reconnects');
        handlers.connected(false);
        handlers.gap();
      } else if (status.type === 'reconnect') {
        handlers.gap();
        handlers.connected(true);
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

function revokedSessionId(msg: Msg, logger: Logger): string | undefined {
  const event = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
  try {
    switch (event) {
      case 'ended':
        return sessionEventsV1.SessionEnded.decode(msg.data).sessionId || undefined;
      case 'expired':
        return sessionEventsV1.SessionExpired.decode(msg.data).sessionId || undefined;
      case 'refreshed':
        return sessionEventsV1.SessionRefreshed.decode(msg.data).sessionId || undefined;
      default:
        return undefined;
    }
  } catch (error) {
    logger.warn({ err: error, subject: msg.subject }, 'undecodable session event ignored');
    return undefined;
  }
}
