import { authenticatedWith, secondFactorOf, type Session } from '../../domain/session.js';

/** A sessions row as pg returns it (SELECT `SESSION_COLUMNS`). */
export interface SessionRow {
  id: string;
  user_id: string;
  token_hash: string;
  status: Session['status'];
  create_time: Date;
  expire_time: Date;
  idle_expire_time: Date;
  last_seen_time: Date;
  end_time: Date | null;
  end_reason: Session['endReason'];
  ip_address: string;
  user_agent: string;
  /** TOTP or RECOVERY_CODE when CompleteMfa created the session; null for a password alone. */
  second_factor: 'TOTP' | 'RECOVERY_CODE' | null;
}

export function sessionFromRow(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.user_id,
    tokenHash: row.token_hash,
    status: row.status,
    createTime: row.create_time,
    expireTime: row.expire_time,
    idleExpireTime: row.idle_expire_time,
    lastSeenTime: row.last_seen_time,
    endTime: row.end_time,
    endReason: row.end_reason,
    client: { ipAddress: row.ip_address, userAgent: row.user_agent },
    ...authenticatedWith(row.second_factor),
  };
}

/** One session as the values of `SESSION_COLUMNS`, in order. */
export function sessionToParams(session: Session): unknown[] {
  return [
    session.id,
    session.userId,
    session.tokenHash,
    session.status,
    session.createTime,
    session.expireTime,
    session.idleExpireTime,
    session.lastSeenTime,
    session.endTime,
    session.endReason,
    session.client.ipAddress,
    session.client.userAgent,
    secondFactorOf(session),
  ];
}

/** Sessions as thirteen column arrays, the parameters of `insertSessions`. */
export function sessionColumns(sessions: readonly Session[]): unknown[][] {
  const rows = sessions.map(sessionToParams);
  return Array.from({ length: 13 }, (_, column) => rows.map((row) => row[column]));
}
