import type { Session } from '../../domain/session.js';
import type { SessionModel } from './generated/models/Session.js';

export function toSession(row: SessionModel): Session {
  return {
    id: row.id,
    userId: row.userId,
    tokenHash: row.tokenHash,
    status: row.status,
    createTime: row.createTime,
    expireTime: row.expireTime,
    idleExpireTime: row.idleExpireTime,
    lastSeenTime: row.lastSeenTime,
    endTime: row.endTime,
    endReason: row.endReason,
    client: { ipAddress: row.ipAddress, userAgent: row.userAgent },
  };
}

export function toRow(session: Session): SessionModel {
  return {
    id: session.id,
    userId: session.userId,
    tokenHash: session.tokenHash,
    status: session.status,
    createTime: session.createTime,
    expireTime: session.expireTime,
    idleExpireTime: session.idleExpireTime,
    lastSeenTime: session.lastSeenTime,
    endTime: session.endTime,
    endReason: session.endReason,
    ipAddress: session.client.ipAddress,
    userAgent: session.client.userAgent,
  };
}
