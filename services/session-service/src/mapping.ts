import { currentAuditScope } from '@warden/bus';
import { envelopeFor, type EventEnvelope } from '@warden/events';
import { sessionEventsV1, sessionv1 } from '@warden/proto';
import type {
  PositionedRevocation,
  RevocationKind,
} from './application/queries/watch-revocations.js';
import { sessionAuditOf } from './audit-mapping.js';
import type { SessionEventKind } from './domain/session-events.js';
import type {
  AssuranceLevel,
  EndReason,
  Factor,
  Session,
  SessionStatus,
} from './domain/session.js';

const STATUS: Record<SessionStatus, sessionv1.SessionStatus> = {
  ACTIVE: sessionv1.SessionStatus.SESSION_STATUS_ACTIVE,
  ENDED: sessionv1.SessionStatus.SESSION_STATUS_ENDED,
  EXPIRED: sessionv1.SessionStatus.SESSION_STATUS_EXPIRED,
};

const END_REASON: Record<EndReason, sessionv1.SessionEndReason> = {
  LOGOUT: sessionv1.SessionEndReason.SESSION_END_REASON_LOGOUT,
  ADMIN: sessionv1.SessionEndReason.SESSION_END_REASON_ADMIN,
  USER_DISABLED: sessionv1.SessionEndReason.SESSION_END_REASON_USER_DISABLED,
  USER_DELETED: sessionv1.SessionEndReason.SESSION_END_REASON_USER_DELETED,
  PASSWORD_CHANGED: sessionv1.SessionEndReason.SESSION_END_REASON_PASSWORD_CHANGED,
  REPLACED_BY_LIMIT: sessionv1.SessionEndReason.SESSION_END_REASON_REPLACED_BY_LIMIT,
  IDLE_TIMEOUT: sessionv1.SessionEndReason.SESSION_END_REASON_IDLE_TIMEOUT,
  ABSOLUTE_TIMEOUT: sessionv1.SessionEndReason.SESSION_END_REASON_ABSOLUTE_TIMEOUT,
  MFA_ENABLED: sessionv1.SessionEndReason.SESSION_END_REASON_MFA_ENABLED,
};

/** What WatchSessions streams; `userId` picks the watchers that get it. */
export interface WatchedEvent {
  userId: string;
  event: sessionv1.SessionEvent;
}

export const toProtoStatus = (status: SessionStatus): sessionv1.SessionStatus => STATUS[status];

export const toProtoEndReason = (reason: EndReason | null): sessionv1.SessionEndReason =>
  reason ? END_REASON[reason] : sessionv1.SessionEndReason.SESSION_END_REASON_UNSPECIFIED;

const FACTOR: Record<Factor, sessionv1.Factor> = {
  PASSWORD: sessionv1.Factor.FACTOR_PASSWORD,
  TOTP: sessionv1.Factor.FACTOR_TOTP,
  RECOVERY_CODE: sessionv1.Factor.FACTOR_RECOVERY_CODE,
};

const ASSURANCE: Record<AssuranceLevel, sessionv1.AssuranceLevel> = {
  AAL1: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
  AAL2: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
};

/** How the session was authenticated: its factors and assurance level (AAL2 after CompleteMfa). */
const authenticationOf = (session: Session) => ({
  factors: session.factors.map((factor) => FACTOR[factor]),
  assuranceLevel: ASSURANCE[session.assuranceLevel],
});

/** CompleteMfa's oneof (totp_code | recovery_code): which factor and its code; none if neither. */
export function fromProtoSecondFactor(request: {
  totpCode?: string | undefined;
  recoveryCode?: string | undefined;
}): { kind: 'TOTP' | 'RECOVERY_CODE'; code: string } | undefined {
  if (request.totpCode !== undefined) return { kind: 'TOTP', code: request.totpCode };
  if (request.recoveryCode !== undefined)
    return { kind: 'RECOVERY_CODE', code: request.recoveryCode };
  return undefined;
}

export function toProtoSession(session: Session): sessionv1.Session {
  return {
    id: session.id,
    userId: session.userId,
    status: STATUS[session.status],
    createTime: session.createTime,
    expireTime: session.expireTime,
    idleExpireTime: session.idleExpireTime,
    lastSeenTime: session.lastSeenTime,
    endTime: session.endTime ?? undefined,
    endReason: toProtoEndReason(session.endReason),
    client: { ipAddress: session.client.ipAddress, userAgent: session.client.userAgent },
    ...authenticationOf(session),
  };
}

const { SessionEventType: EventType, SessionStatus: Status } = sessionv1;

type Living = {
  sessionId: string;
  userId: string;
  occurTime?: Date;
  expireTime?: Date;
  idleExpireTime?: Date;
  factors?: sessionv1.Factor[];
  assuranceLevel?: sessionv1.AssuranceLevel;
};
const active = (e: Living, at: 'createTime' | 'lastSeenTime'): sessionv1.Session => ({
  id: e.sessionId,
  userId: e.userId,
  status: Status.SESSION_STATUS_ACTIVE,
  expireTime: e.expireTime,
  idleExpireTime: e.idleExpireTime,
  [at]: e.occurTime,
  endReason: sessionv1.SessionEndReason.SESSION_END_REASON_UNSPECIFIED,
  factors: e.factors ?? [],
  assuranceLevel: e.assuranceLevel ?? sessionv1.AssuranceLevel.ASSURANCE_LEVEL_UNSPECIFIED,
});

type Ending = { sessionId: string; userId: string; occurTime?: Date; endReason: number };
const ended = (e: Ending, status: sessionv1.SessionStatus): sessionv1.Session => ({
  id: e.sessionId,
  userId: e.userId,
  status,
  endTime: e.occurTime,
  endReason: e.endReason,
  factors: [],
  assuranceLevel: sessionv1.AssuranceLevel.ASSURANCE_LEVEL_UNSPECIFIED,
});

/** What each published session event says about its session, by the subject's last segment. */
const SESSION_OF: Record<
  string,
  { type: sessionv1.SessionEventType; read(payload: Uint8Array): sessionv1.Session }
> = {
  started: {
    type: EventType.SESSION_EVENT_TYPE_STARTED,
    read: (payload) => active(sessionEventsV1.SessionStarted.decode(payload), 'createTime'),
  },
  refreshed: {
    type: EventType.SESSION_EVENT_TYPE_REFRESHED,
    read: (payload) => active(sessionEventsV1.SessionRefreshed.decode(payload), 'lastSeenTime'),
  },
  ended: {
    type: EventType.SESSION_EVENT_TYPE_ENDED,
    read: (payload) =>
      ended(sessionEventsV1.SessionEnded.decode(payload), Status.SESSION_STATUS_ENDED),
  },
  expired: {
    type: EventType.SESSION_EVENT_TYPE_EXPIRED,
    read: (payload) =>
      ended(sessionEventsV1.SessionExpired.decode(payload), Status.SESSION_STATUS_EXPIRED),
  },
};

/** A published session event as WatchSessions streams it; undefined for kinds it does not stream. Throws on a bad payload. */
export function watchedEventOf(subject: string, event: EventEnvelope): WatchedEvent | undefined {
  const kind = SESSION_OF[subject.slice(subject.lastIndexOf('.') + 1)];
  if (!kind) return undefined;
  const session = kind.read(event.payload);
  return {
    userId: session.userId,
    event: { eventId: event.id, type: kind.type, session, eventTime: event.time },
  };
}

/** `warden.session.v1.<event>`: the NATS subjects, and the envelope types. */
export const SESSION_SUBJECT_PREFIX = 'warden.session.v1.';

const sessionEnvelope = envelopeFor({
  source: 'session-service',
  subjectPrefix: SESSION_SUBJECT_PREFIX,
  context: currentAuditScope,
});

/** A session change as the protobuf envelope the outbox stores and the relay publishes. */
export function toEnvelope(
  kind: SessionEventKind,
  session: Session,
  traceparent?: string,
): EventEnvelope {
  const { payload, time } = encodePayload(kind, session);
  return sessionEnvelope(kind, payload, {
    subjectId: session.id,
    time,
    traceparent,
    audit: sessionAuditOf(kind, session),
  });
}

function encodePayload(kind: SessionEventKind, s: Session): { payload: Uint8Array; time: Date } {
  switch (kind) {
    case 'started':
      return {
        time: s.createTime,
        payload: sessionEventsV1.SessionStarted.encode({
          sessionId: s.id,
          userId: s.userId,
          // Deprecated, always empty: IP and user agent are personal data, and the stream
          // keeps events after the user is erased.
          client: undefined,
          expireTime: s.expireTime,
          idleExpireTime: s.idleExpireTime,
          occurTime: s.createTime,
          ...authenticationOf(s),
        }).finish(),
      };
    case 'refreshed':
      return {
        time: s.lastSeenTime,
        payload: sessionEventsV1.SessionRefreshed.encode({
          sessionId: s.id,
          userId: s.userId,
          expireTime: s.expireTime,
          idleExpireTime: s.idleExpireTime,
          occurTime: s.lastSeenTime,
        }).finish(),
      };
    case 'ended':
    case 'expired': {
      const time = s.endTime ?? new Date();
      const message = {
        sessionId: s.id,
        userId: s.userId,
        endReason: toProtoEndReason(s.endReason),
        occurTime: time,
      };
      const payload =
        kind === 'ended'
          ? sessionEventsV1.SessionEnded.encode(message).finish()
          : sessionEventsV1.SessionExpired.encode(message).finish();
      return { time, payload };
    }
  }
}

/** A `started` payload written before v1.1 without its client data; undefined when it has none. */
export function redactStartedPayload(payload: Uint8Array): Uint8Array | undefined {
  const event = sessionEventsV1.SessionStarted.decode(payload);
  if (!event.client) return undefined;
  return sessionEventsV1.SessionStarted.encode({ ...event, client: undefined }).finish();
}

const REVOCATION_KIND: Record<RevocationKind, sessionv1.RevocationKind> = {
  SESSION_ENDED: sessionv1.RevocationKind.REVOCATION_KIND_SESSION_ENDED,
  SESSION_EXPIRED: sessionv1.RevocationKind.REVOCATION_KIND_SESSION_EXPIRED,
  USER_DISABLED: sessionv1.RevocationKind.REVOCATION_KIND_USER_DISABLED,
  USER_DELETED: sessionv1.RevocationKind.REVOCATION_KIND_USER_DELETED,
  PASSWORD_CHANGED: sessionv1.RevocationKind.REVOCATION_KIND_PASSWORD_CHANGED,
  ROLES_CHANGED: sessionv1.RevocationKind.REVOCATION_KIND_ROLES_CHANGED,
};

export const toProtoRevocation = ({
  cursor,
  revocation,
}: PositionedRevocation): sessionv1.WatchRevocationsResponse => ({
  cursor,
  kind: REVOCATION_KIND[revocation.kind],
  sessionId: revocation.sessionId,
  userId: revocation.userId,
  time: revocation.time,
});
