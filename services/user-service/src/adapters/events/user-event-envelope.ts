import { newEvent, type EventEnvelope } from '@warden/events';
import { userEventsV1 } from '@warden/proto';
import type { UserEvent } from '../../domain/user-events.js';

export const EVENT_SOURCE = 'user-service';

/** `warden.user.v1.<event>`: the NATS subject, and the envelope type. */
export const subjectOf = (event: UserEvent): string => `warden.user.v1.${event.type}`;

/** A domain event as the protobuf envelope the outbox stores and the relay publishes. */
export function toEnvelope(event: UserEvent, traceparent?: string): EventEnvelope {
  return newEvent({
    type: subjectOf(event),
    source: EVENT_SOURCE,
    payload: encodePayload(event),
    subjectId: event.userId,
    time: event.occurTime,
    ...(traceparent ? { traceparent } : {}),
  });
}

function encodePayload(event: UserEvent): Uint8Array {
  switch (event.type) {
    case 'registered':
      // email and display_name: deprecated, always empty (events outlive erasure).
      return userEventsV1.UserRegistered.encode({
        userId: event.userId,
        email: '',
        displayName: '',
        occurTime: event.occurTime,
      }).finish();
    case 'updated':
      return userEventsV1.UserUpdated.encode({
        userId: event.userId,
        displayName: '',
        updateMask: event.updateMask,
        occurTime: event.occurTime,
      }).finish();
    case 'password_changed':
      return userEventsV1.UserPasswordChanged.encode({
        userId: event.userId,
        exceptSessionId: event.exceptSessionId,
        occurTime: event.occurTime,
      }).finish();
    case 'disabled':
      return userEventsV1.UserDisabled.encode({
        userId: event.userId,
        reason: event.reason,
        occurTime: event.occurTime,
      }).finish();
    case 'enabled':
      return userEventsV1.UserEnabled.encode({
        userId: event.userId,
        reason: event.reason,
        occurTime: event.occurTime,
      }).finish();
    case 'deleted':
      return userEventsV1.UserDeleted.encode({
        userId: event.userId,
        occurTime: event.occurTime,
      }).finish();
  }
}

/**
 * An outbox payload written before v1.1 without the personal data it carried (email, display
 * name); undefined when there is nothing to take out. Run on the user's rows as they are erased.
 */
export function redactPayload(type: string, payload: Uint8Array): Uint8Array | undefined {
  switch (type) {
    case 'warden.user.v1.registered': {
      const event = userEventsV1.UserRegistered.decode(payload);
      if (!event.email && !event.displayName) return undefined;
      return userEventsV1.UserRegistered.encode({ ...event, email: '', displayName: '' }).finish();
    }
    case 'warden.user.v1.updated': {
      const event = userEventsV1.UserUpdated.decode(payload);
      if (!event.displayName) return undefined;
      return userEventsV1.UserUpdated.encode({ ...event, displayName: '' }).finish();
    }
    default:
      return undefined;
  }
}
