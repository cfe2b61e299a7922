import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { isAppError } from '@warden/errors';
import { DurableConsumer, processOnce, STREAMS, type EventEnvelope } from '@warden/events';
import type { Logger } from '@warden/logger';
import { userEventsV1 } from '@warden/proto';
import type { GiveDefaultRoles } from '../../application/commands/give-default-roles.js';
import type { RemoveSubject } from '../../application/commands/remove-subject.js';
import type { AuthzRepository, AuthzTransaction } from '../../application/ports.js';
import type { AuthzEvent } from '../../domain/index.js';

export interface UserEventsConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  repository: AuthzRepository;
  giveDefaultRoles: GiveDefaultRoles;
  removeSubject: RemoveSubject;
  logger: Logger;
  durable: string;
  startFrom?: 'all' | 'new';
  /** Defaults to WARDEN_USER on `warden.user.v1.>`; tests use streams of their own. */
  stream?: string;
  filterSubject?: string;
  subjectPrefix?: string;
  ackWaitMs?: number;
}

/**
 * Turns user-context events into authz commands: a registered user gets the default role, a
 * deleted user loses every assignment. Each event's effect commits once, with its processed id.
 */
export function createUserEventsConsumer(options: UserEventsConsumerOptions): DurableConsumer {
  const prefix = options.subjectPrefix ?? 'warden.user.v1.';
  const once = (event: EventEnvelope, apply: (tx: AuthzTransaction) => Promise<AuthzEvent[]>) =>
    processOnce<AuthzTransaction>({
      transaction: (fn) => options.repository.transaction(fn, { traceparent: event.traceparent }),
      markProcessed: (tx, consumer, eventId) => tx.markProcessed(consumer, eventId),
      consumer: options.durable,
      eventId: event.id,
      apply: async (tx) => void (await apply(tx)),
    });
  const skip = (event: EventEnvelope, error: unknown) =>
    options.logger.error(
      { err: error, eventId: event.id, type: event.type },
      'user event cannot be applied; skipping it',
    );

  const handle = async (event: EventEnvelope): Promise<void> => {
    let work: ((tx: AuthzTransaction) => Promise<AuthzEvent[]>) | undefined;
    try {
      if (is(event.type, prefix, 'registered', 'UserRegistered')) {
        const user = userEventsV1.UserRegistered.decode(event.payload);
        work = (tx) =>
          options.giveDefaultRoles.applyIn(tx, { userId: user.userId, email: user.email });
      } else if (is(event.type, prefix, 'deleted', 'UserDeleted')) {
        const user = userEventsV1.UserDeleted.decode(event.payload);
        work = (tx) => options.removeSubject.applyIn(tx, user.userId);
      }
    } catch (error) {
      // An undecodable payload never gets better: let it go instead of retrying for ever.
      return skip(event, error);
    }
    if (!work) return;
    try {
      await once(event, work);
    } catch (error) {
      if (isAppError(error) && error.kind === 'INVALID_ARGUMENT') return skip(event, error);
      throw error;
    }
  };

  return new DurableConsumer({
    js: options.js,
    jsm: options.jsm,
    stream: options.stream ?? STREAMS.user.name,
    durable: options.durable,
    filterSubject: options.filterSubject ?? STREAMS.user.subjects[0],
    handle,
    logger: options.logger,
    ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
    ...(options.startFrom ? { startFrom: options.startFrom } : {}),
  });
}

/** ce-type is the subject (`warden.user.v1.registered`); the message name form is accepted too. */
const is = (type: string, prefix: string, event: string, message: string): boolean =>
  type === `${prefix}${event}` || type === `warden.user.v1.${message}`;
