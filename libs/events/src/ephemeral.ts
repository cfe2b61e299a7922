import { jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { fromNatsMessage, type EventEnvelope } from './envelope.js';
import { EventSourceCheck, type RejectedEventsCounter } from './event-source.js';
import type { Logger } from './logger.js';

export type EphemeralSubscription = { stop(): Promise<void> };

/**
 * Every caller gets every event published on `subject` from now on, e.g. to drop cache entries
 * on each replica. An ordered JetStream consumer starting after the stream's last message: it
 * resumes where it was after a brief disconnect. Handler errors are logged, never retried; events
 * whose ce-source does not own the subject are dropped (see DurableConsumerOptions.source).
 */
export async function subscribeEphemeral(
  nc: NatsConnection,
  subject: string,
  handler: (event: EventEnvelope) => Promise<void> | void,
  logger: Logger,
  options: { source?: string; rejected?: RejectedEventsCounter } = {},
): Promise<EphemeralSubscription> {
  const sources = new EventSourceCheck({
    subscription: subject,
    logger,
    ...(options.source === undefined ? {} : { expectedSource: options.source }),
    ...(options.rejected === undefined ? {} : { rejected: options.rejected }),
  });
  const jsm = await jetstreamManager(nc);
  const stream = await jsm.streams.find(subject);
  const { state } = await jsm.streams.info(stream);
  // An explicit start sequence, not deliver "new": the client resumes an ordered consumer from
  // its cursor, and with deliver "new" and nothing received yet that cursor is the stream start.
  const consumer = await jetstream(nc).consumers.get(stream, {
    filter_subjects: subject,
    opt_start_seq: state.last_seq + 1,
  });
  const messages = await consumer.consume();
  const done = deliver(messages, handler, logger, subject, sources);
  return {
    async stop() {
      await messages.close();
      await done;
    },
  };
}

async function deliver(
  messages: ConsumerMessages,
  handler: (event: EventEnvelope) => Promise<void> | void,
  logger: Logger,
  subject: string,
  sources: EventSourceCheck,
): Promise<void> {
  try {
    for await (const msg of messages) {
      try {
        const event = fromNatsMessage(msg);
        if (sources.admits(msg.subject, event)) await handler(event);
      } catch (err) {
        logger.error({ err, subject: msg.subject, seq: msg.seq }, 'ephemeral event handler failed');
      }
    }
  } catch (err) {
    logger.error({ err, subject }, 'ephemeral subscription ended');
  }
}
