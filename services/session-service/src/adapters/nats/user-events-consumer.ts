import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { DurableConsumer, STREAMS, type EventEnvelope } from '@warden/events';
import type { Logger } from '@warden/logger';
import { userEventsV1 } from '@warden/proto';
import type {
  EndSessionsForUserEvent,
  EndSessionsForUserEventHandler,
} from '../../application/commands/end-sessions-for-user-event.js';
import { isUuid } from '../../domain/session-id.js';

const USER_SUBJECTS = 'warden.user.v1.>';

/**
 * user-service's lifecycle events, shared by the workers through one durable consumer: a
 * disabled or deleted user, or a changed password, ends that user's sessions, once per event.
 * Disabling and password changes end only sessions started by the event's time (a late event
 * must not end a session signed in to afterwards); a deletion ends every one.
 */
export function userEventsConsumer(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  durable: string;
  startFrom?: 'all' | 'new';
  handler: EndSessionsForUserEventHandler;
  logger: Logger;
}): DurableConsumer {
  const { handler, logger, durable } = options;
  return new DurableConsumer({
    js: options.js,
    jsm: options.jsm,
    stream: STREAMS.user.name,
    durable,
    filterSubject: USER_SUBJECTS,
    ...(options.startFrom ? { startFrom: options.startFrom } : {}),
    logger,
    handle: async (event) => {
      let command: EndSessionsForUserEvent | undefined;
      try {
        command = toCommand(event, durable);
      } catch (error) {
        // Redelivering an undecodable payload would fail the same way for ever.
        logger.error(
          { err: error, eventId: event.id, type: event.type },
          'undecodable user event skipped',
        );
        return;
      }
      if (!command) return;
      if (!isUuid(command.userId)) {
        logger.warn(
          { eventId: event.id, type: event.type },
          'user event without a valid user id ignored',
        );
        return;
      }
      const ended = await handler.execute(command);
      if (ended)
        logger.info(
          { eventId: event.id, type: event.type, userId: command.userId, ended },
          'ended sessions for user event',
        );
    },
  });
}

function toCommand(event: EventEnvelope, consumer: string): EndSessionsForUserEvent | undefined {
  const common = {
    inbox: { consumer, eventId: event.id },
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
  };
  switch (event.type) {
    case 'warden.user.v1.disabled':
      return {
        ...common,
        userId: userEventsV1.UserDisabled.decode(event.payload).userId,
        reason: 'USER_DISABLED',
        occurredAt: event.time,
      };
    case 'warden.user.v1.deleted':
      return {
        ...common,
        userId: userEventsV1.UserDeleted.decode(event.payload).userId,
        reason: 'USER_DELETED',
      };
    case 'warden.user.v1.password_changed': {
      const changed = userEventsV1.UserPasswordChanged.decode(event.payload);
      return {
        ...common,
        userId: changed.userId,
        reason: 'PASSWORD_CHANGED',
        occurredAt: event.time,
        ...(changed.exceptSessionId ? { exceptSessionId: changed.exceptSessionId } : {}),
      };
    }
    default:
      return undefined;
  }
}
