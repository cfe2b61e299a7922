import { sessionv1 } from '@warden/proto';
import type { EndReason, Session, SessionStatus } from './domain/session.js';

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
};

/** What WatchSessions streams; `userId` picks the watchers that get it. */
export interface WatchedEvent {
  userId: string;
  event: sessionv1.SessionEvent;
}

export const toProtoStatus = (status: SessionStatus): sessionv1.SessionStatus => STATUS[status];

export const toProtoEndReason = (reason: EndReason | null): sessionv1.SessionEndReason =>
  reason ? END_REASON[reason] : sessionv1.SessionEndReason.SESSION_END_REASON_UNSPECIFIED;

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
  };
}
