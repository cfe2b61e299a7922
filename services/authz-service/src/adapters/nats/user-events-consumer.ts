import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { consumerAuditScope, inAuditScope } from '@warden/bus';
import { isAppError } from '@warden/errors';
import { DurableConsumer, STREAMS, type EventEnvelope, type EventMetrics } from '@warden/events';
import { recordConsumerSpan, type Logger } from '@warden/logger';
import { userEventsV1 } from '@warden/proto';
import type { GiveDefaultRolesHandler } from '../../application/commands/give-default-roles.js';
import type { RemoveSubjectHandler } from '../../application/commands/remove-subject.js';
import { ADMIN_ROLE } from '../../domain/index.js';

export interface UserEventsConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  giveDefaultRoles: GiveDefaultRolesHandler;
  removeSubject: RemoveSubjectHandler;
  logger: Logger;
  durable: string;
  startFrom?: 'all' | 'new';
  /** Defaults to WARDEN_USER on `warden.user.v1.>`; tests use streams of their own. */
  stream?: string;
  filterSubject?: string;
  subjectPrefix?: string;
  ackWaitMs?: number;
  /** Counts dropped events, lag and redeliveries. */
  metrics?: EventMetrics;
}

/**
 * Turns user-context events into authz commands: a registered user gets the default role, a user
 * whose email is verified may become a bootstrap admin, a deleted user loses every assignment.
 * Each event's effect commits once, with its processed id (a bootstrap grant with its record).
 */
export function createUserEventsConsumer(options: UserEventsConsumerOptions): DurableConsumer {
  const prefix = options.subjectPrefix ?? 'warden.user.v1.';
  const once = (event: EventEnvelope) => ({
    inbox: { consumer: options.durable, eventId: event.id },
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
  });
  const skip = (event: EventEnvelope, error: unknown) =>
    options.logger.error(
      { err: error, eventId: event.id, type: event.type },
      'user event cannot be applied; skipping it',
    );

  const handle = async (event: EventEnvelope): Promise<void> => {
    let work: (() => Promise<unknown>) | undefined;
    try {
      if (is(event.type, prefix, 'registered', 'UserRegistered')) {
        const { userId } = userEventsV1.UserRegistered.decode(event.payload);
        work = async () => {
          const given = await options.giveDefaultRoles.execute({ userId, ...once(event) });
          if (given.some((e) => e.type === 'role_assigned' && e.assignment.role === ADMIN_ROLE))
            options.logger.info({ userId, eventId: event.id }, 'bootstrap admin granted');
        };
      } else if (is(event.type, prefix, 'email_verified', 'EmailVerified')) {
        const { userId } = userEventsV1.EmailVerified.decode(event.payload);
        work = async () => {
          const given = await options.giveDefaultRoles.afterEmailVerified({
            userId,
            ...(event.traceparent ? { traceparent: event.traceparent } : {}),
          });
          if (given.length > 0)
            options.logger.info({ userId, eventId: event.id }, 'bootstrap admin granted');
        };
      } else if (is(event.type, prefix, 'deleted', 'UserDeleted')) {
        const { userId } = userEventsV1.UserDeleted.decode(event.payload);
        work = () => options.removeSubject.execute({ userId, ...once(event) });
      }
    } catch (error) {
      // An undecodable payload never gets better: let it go instead of retrying for ever.
      return skip(event, error);
    }
    if (!work) return;
    try {
      // Audited as warden itself (SYSTEM) through user-service, in the event's request and trace.
      await inAuditScope(consumerAuditScope(event), work);
    } catch (error) {
      // Redelivery cannot cure a bad event or a refused lookup (the default role is given first, and
      // a missed bootstrap grant is made at the worker's next start); anything else is retried.
      if (isAppError(error) && NEVER_BETTER.has(error.kind)) return skip(event, error);
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
    // Test streams use other subjects: the source is named rather than read off the subject.
    source: 'user-service',
    ...(options.metrics ? { metrics: options.metrics } : {}),
    logger: options.logger,
    observe: recordConsumerSpan,
    ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
    ...(options.startFrom ? { startFrom: options.startFrom } : {}),
  });
}

const NEVER_BETTER = new Set(['INVALID_ARGUMENT', 'PERMISSION_DENIED', 'UNAUTHENTICATED']);

/** ce-type is the subject (`warden.user.v1.registered`); the message name form is accepted too. */
const is = (type: string, prefix: string, event: string, message: string): boolean =>
  type === `${prefix}${event}` || type === `warden.user.v1.${message}`;
