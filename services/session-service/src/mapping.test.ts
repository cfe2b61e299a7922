import { sessionEventsV1, sessionv1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { aSession, T0 } from '../test/support/mothers.js';
import { authenticatedWith, end, expire } from './domain/session.js';
import { toEnvelope, watchedEventOf } from './mapping.js';

describe('session event envelope', () => {
  it('puts a started session on warden.session.v1.started without its client data', () => {
    const session = aSession({ client: { ipAddress: '198.51.100.77', userAgent: 'Secret/1.0' } });
    const envelope = toEnvelope('started', session);
    expect(envelope).toMatchObject({
      type: 'warden.session.v1.started',
      source: 'session-service',
      subjectId: session.id,
    });
    const decoded = sessionEventsV1.SessionStarted.decode(envelope.payload);
    expect(decoded).toMatchObject({ sessionId: session.id, userId: session.userId });
    expect(decoded.client).toBeUndefined();
    const bytes = Buffer.from(envelope.payload).toString('latin1');
    expect(bytes).not.toContain('198.51.100.77');
    expect(bytes).not.toContain('Secret/1.0');
  });
});

describe('watchedEventOf', () => {
  const { SessionEventType: Type, SessionStatus: Status, SessionEndReason: EndReason } = sessionv1;
  const session = aSession();
  const later = new Date(T0.getTime() + 60_000);
  const watched = (envelope: ReturnType<typeof toEnvelope>) =>
    watchedEventOf(envelope.type, envelope);

  it('reads back what each published session event says, for its user', () => {
    const started = toEnvelope('started', session);
    expect(watched(started)).toEqual({
      userId: session.userId,
      event: {
        eventId: started.id,
        type: Type.SESSION_EVENT_TYPE_STARTED,
        eventTime: started.time,
        session: {
          id: session.id,
          userId: session.userId,
          status: Status.SESSION_STATUS_ACTIVE,
          createTime: session.createTime,
          expireTime: session.expireTime,
          idleExpireTime: session.idleExpireTime,
          endReason: EndReason.SESSION_END_REASON_UNSPECIFIED,
          factors: [sessionv1.Factor.FACTOR_PASSWORD],
          assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
        },
      },
    });
    const refreshed = watched(toEnvelope('refreshed', { ...session, lastSeenTime: later }));
    expect(refreshed?.event).toMatchObject({
      type: Type.SESSION_EVENT_TYPE_REFRESHED,
      session: { status: Status.SESSION_STATUS_ACTIVE, lastSeenTime: later },
    });
    const ended = watched(toEnvelope('ended', end(session, 'LOGOUT', later)!));
    expect(ended?.event).toMatchObject({
      type: Type.SESSION_EVENT_TYPE_ENDED,
      session: {
        status: Status.SESSION_STATUS_ENDED,
        endTime: later,
        endReason: EndReason.SESSION_END_REASON_LOGOUT,
      },
    });
    const afterExpiry = new Date(session.expireTime.getTime() + 1);
    const expired = watched(toEnvelope('expired', expire(session, afterExpiry)!));
    expect(expired?.event.type).toBe(Type.SESSION_EVENT_TYPE_EXPIRED);
    expect(expired?.event.session?.status).toBe(Status.SESSION_STATUS_EXPIRED);
  });

  it('streams how a session was authenticated: factors and assurance level from the started event', () => {
    const stepUp = { ...aSession(), ...authenticatedWith('TOTP') };
    const event = watched(toEnvelope('started', stepUp));
    expect(event?.event.session).toMatchObject({
      id: stepUp.id,
      factors: [sessionv1.Factor.FACTOR_PASSWORD, sessionv1.Factor.FACTOR_TOTP],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
    });
    expect(watched(toEnvelope('started', session))?.event.session).toMatchObject({
      factors: [sessionv1.Factor.FACTOR_PASSWORD],
      assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
    });
  });

  it('ignores kinds it does not stream and throws on a payload that does not decode', () => {
    const started = toEnvelope('started', session);
    expect(watchedEventOf('warden.session.v1.something_new', started)).toBeUndefined();
    const garbage = { ...started, payload: new Uint8Array([0xff, 0xff, 0xff]) };
    expect(() => watchedEventOf(started.type, garbage)).toThrow();
  });
});
