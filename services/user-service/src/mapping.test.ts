import { cloudEventHeaders, isUuid } from '@warden/events';
import { userEventsV1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import type { UserEvent } from './domain/user-events.js';
import { toEnvelope } from './mapping.js';

const occurTime = new Date('2026-02-03T04:05:06.789Z');
const userId = '0190c7a6-1e1b-7c3d-9f00-0123456789ab';
const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('user event envelope', () => {
  it('puts a registration on warden.user.v1.registered with a protobuf payload and CloudEvents headers', () => {
    const event: UserEvent = { type: 'registered', userId, occurTime };
    const envelope = toEnvelope(event, traceparent);
    expect(envelope).toMatchObject({
      type: 'warden.user.v1.registered',
      source: 'user-service',
      subjectId: userId,
      time: occurTime,
      traceparent,
    });
    expect(isUuid(envelope.id)).toBe(true);
    // The deprecated personal-data fields stay empty: events carry ids only.
    expect(userEventsV1.UserRegistered.decode(envelope.payload)).toEqual({
      userId,
      email: '',
      displayName: '',
      occurTime,
    });
    expect(cloudEventHeaders(envelope)).toMatchObject({
      'ce-id': envelope.id,
      'ce-type': 'warden.user.v1.registered',
      traceparent,
    });
  });

  it('marks an imported registration, and only that one', () => {
    const imported = toEnvelope({ type: 'registered', userId, occurTime, imported: true });
    expect(userEventsV1.UserRegistered.decode(imported.payload).imported).toBe(true);
    const registered = toEnvelope({ type: 'registered', userId, occurTime });
    expect(userEventsV1.UserRegistered.decode(registered.payload).imported).toBeUndefined();
  });

  it.each([
    [
      { type: 'updated', userId, updateMask: ['display_name'], occurTime },
      userEventsV1.UserUpdated,
    ],
    [
      { type: 'password_changed', userId, exceptSessionId: 's1', reason: 'RESET', occurTime },
      userEventsV1.UserPasswordChanged,
    ],
    [{ type: 'disabled', userId, reason: 'spam', occurTime }, userEventsV1.UserDisabled],
    [{ type: 'enabled', userId, reason: '', occurTime }, userEventsV1.UserEnabled],
    [{ type: 'deleted', userId, occurTime }, userEventsV1.UserDeleted],
    [{ type: 'email_verified', userId, occurTime }, userEventsV1.EmailVerified],
    [{ type: 'mfa_enabled', userId, exceptSessionId: 's2', occurTime }, userEventsV1.MfaEnabled],
  ] as const)('encodes %o as its payload message', (event, message) => {
    const envelope = toEnvelope(event as UserEvent);
    expect(envelope.type).toBe(`warden.user.v1.${event.type}`);
    const { type: _type, ...fields } = event;
    const decoded: object = message.decode(envelope.payload);
    // UserUpdated's deprecated display_name decodes as its empty default.
    // UserPasswordChanged's reason is the proto enum.
    const reasons = { CHANGE: 1, RESET: 2 } as const;
    expect(decoded).toEqual(
      event.type === 'updated'
        ? { ...fields, displayName: '' }
        : event.type === 'password_changed'
          ? { ...fields, reason: reasons[event.reason] }
          : fields,
    );
    expect(envelope).not.toHaveProperty('traceparent');
  });
});
