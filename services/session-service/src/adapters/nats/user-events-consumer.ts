import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { consumerAuditScope, inAuditScope } from '@warden/bus';
import { DurableConsumer, STREAMS, type EventEnvelope, type EventMetrics } from '@warden/events';
import { recordConsumerSpan, type Logger } from '@warden/logger';
import { userEventsV1 } from '@warden/proto';
import type {
  EndSessionsForUserEvent,
  EndSessionsForUserEventHandler,
} from '../../application/commands/end-sessions-for-user-event.js';
import { isUuid } from '../../domain/session-id.js';

/**
 * The user events that end sessions, each on a durable of its own (`<durable>-<suffix>`):
 * nats-server 2.9 gives a consumer one filter subject, and one consumer on `warden.user.v1.>`
 * had every registration and profile change delivered here only to be acknowledged unread.
 */
const SUBJECTS = {
  disabled: 'warden.user.v1.disabled',
  deleted: 'warden.user.v1.deleted',
  'password-changed': 'warden.user.v1.password_changed',
  'mfa-enabled': 'warden.user.v1.mfa_enabled',
} as const;

/** The durable consumers the workers share, named after the configured `durable`. */
export const userEventDurables = (durable: string): string[] =>
  Object.keys(SUBJECTS).map((suffix) => `${durable}-${suffix}`);

export interface UserEventsConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * user-service's lifecycle events, shared by the workers through durable consumers: a disabled or
 * deleted user, or a changed password, ends that user's sessions, and a second factor turned on
 * ends their AAL1 sessions, once per event (the inbox key is `durable` itself, the same for every
 * consumer and for the single consumer of older versions, so an event one of them applied is not
 * applied again). Disabling, password changes and MFA end only sessions started by the event's
 * time (a late event must not end a session signed in to afterwards); a deletion ends every one.
 */
export function userEventsConsumer(options: {
  js: JetStreamClient;
  jsm: JetStreamManager;
  durable: string;
  startFrom?: 'all' | 'new';
  handler: EndSessionsForUserEventHandler;
  logger: Logger;
  /** Counts dropped events, lag and redeliveries. */
  metrics?: EventMetrics;
}): UserEventsConsumer {
  const { handler, logger, durable } = options;
  const handle = async (event: EventEnvelope) => {
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
    // Audited as warden itself (SYSTEM) through user-service, in the event's request and trace.
    const apply = command;
    const ended = await inAuditScope(consumerAuditScope(event), () => handler.execute(apply));
    if (ended)
      logger.info(
        { eventId: event.id, type: event.type, userId: command.userId, ended },
        'ended sessions for user event',
      );
  };
  const consumers = Object.entries(SUBJECTS).map(
    ([suffix, subject]) =>
      new DurableConsumer({
        js: options.js,
        jsm: options.jsm,
        stream: STREAMS.user.name,
        durable: `${durable}-${suffix}`,
        filterSubject: subject,
        ...(options.startFrom ? { startFrom: options.startFrom } : {}),
        logger,
        handle,
        observe: recordConsumerSpan,
        ...(options.metrics ? { metrics: options.metrics } : {}),
      }),
  );
  return {
    async start() {
      await Promise.all(consumers.map((consumer) => consumer.start()));
      await warnAboutLegacyDurable(options.jsm, durable, logger);
    },
    async stop() {
      await Promise.all(consumers.map((consumer) => consumer.stop()));
    },
  };
}

/** Older versions used one durable named `durable` itself; it no longer receives acks. */
async function warnAboutLegacyDurable(
  jsm: JetStreamManager,
  durable: string,
  logger: Logger,
): Promise<void> {
  const legacy = await jsm.consumers.info(STREAMS.user.name, durable).catch(() => undefined);
  if (legacy)
    logger.warn(
      { stream: STREAMS.user.name, durable },
      'durable consumer of an older version found: delete it once no older worker runs (nats consumer rm)',
    );
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
    case 'warden.user.v1.mfa_enabled': {
      const enabled = userEventsV1.MfaEnabled.decode(event.payload);
      return {
        ...common,
        userId: enabled.userId,
        reason: 'MFA_ENABLED',
        occurredAt: event.time,
        ...(enabled.exceptSessionId ? { exceptSessionId: enabled.exceptSessionId } : {}),
      };
    }
    default:
      return undefined;
  }
}
