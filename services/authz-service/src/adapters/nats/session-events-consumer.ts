import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { consumerAuditScope, inAuditScope } from '@warden/bus';
import { DurableConsumer, STREAMS, type EventEnvelope, type EventMetrics } from '@warden/events';
import { recordConsumerSpan, type Logger } from '@warden/logger';
import { sessionEventsV1 } from '@warden/proto';
import type { LapseSessionGrantsHandler } from '../../application/commands/lapse-session-grants.js';

export interface SessionEventsConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  lapseSessionGrants: LapseSessionGrantsHandler;
  logger: Logger;
  durable: string;
  startFrom?: 'all' | 'new';
  /** Defaults to WARDEN_SESSION on `warden.session.v1.>`; tests use streams of their own. */
  stream?: string;
  filterSubject?: string;
  subjectPrefix?: string;
  ackWaitMs?: number;
  /** Counts dropped events, lag and redeliveries. */
  metrics?: EventMetrics;
}

/**
 * Session-bound grants lapse with their session: a session ended (logout, an admin, a password
 * change, the user disabled or deleted, the session limit) or expired removes every grant bound to
 * it. Each event's effect commits once, with its processed id; other session events are acked
 * untouched.
 */
export function createSessionEventsConsumer(
  options: SessionEventsConsumerOptions,
): DurableConsumer {
  const prefix = options.subjectPrefix ?? 'warden.session.v1.';

  const handle = async (event: EventEnvelope): Promise<void> => {
    let ended: { sessionId: string; occurTime?: Date } | undefined;
    try {
      if (is(event.type, prefix, 'ended', 'SessionEnded'))
        ended = sessionEventsV1.SessionEnded.decode(event.payload);
      else if (is(event.type, prefix, 'expired', 'SessionExpired'))
        ended = sessionEventsV1.SessionExpired.decode(event.payload);
    } catch (error) {
      // An undecodable payload never gets better: let it go instead of retrying for ever.
      options.logger.error(
        { err: error, eventId: event.id, type: event.type },
        'session event cannot be decoded; skipping it',
      );
      return;
    }
    if (!ended || ended.sessionId === '') return;
    // Anything failing here (Postgres) is retried by redelivery. Audited as warden itself
    // (SYSTEM) through session-service, in the event's request and trace.
    const { sessionId } = ended;
    const endTime = ended.occurTime ?? event.time;
    const lapsed = await inAuditScope(consumerAuditScope(event), () =>
      options.lapseSessionGrants.execute({
        sessionId,
        endTime,
        inbox: { consumer: options.durable, eventId: event.id },
        ...(event.traceparent ? { traceparent: event.traceparent } : {}),
      }),
    );
    if (lapsed && lapsed.length > 0)
      options.logger.info(
        { sessionId: ended.sessionId, lapsed: lapsed.length, eventId: event.id },
        'session-bound grants lapsed with their session',
      );
  };

  return new DurableConsumer({
    js: options.js,
    jsm: options.jsm,
    stream: options.stream ?? STREAMS.session.name,
    durable: options.durable,
    filterSubject: options.filterSubject ?? STREAMS.session.subjects[0],
    handle,
    // Test streams use other subjects: the source is named rather than read off the subject.
    source: 'session-service',
    ...(options.metrics ? { metrics: options.metrics } : {}),
    logger: options.logger,
    observe: recordConsumerSpan,
    ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
    ...(options.startFrom ? { startFrom: options.startFrom } : {}),
  });
}

/** ce-type is the subject (`warden.session.v1.ended`); the message name form is accepted too. */
const is = (type: string, prefix: string, event: string, message: string): boolean =>
  type === `${prefix}${event}` || type === `warden.session.v1.${message}`;
