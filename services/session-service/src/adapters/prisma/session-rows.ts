import type { Session } from '../../domain/session.js';

/** The sessions columns, in the order {@link sessionFromRow} reads and {@link sessionColumns} writes them. */
export const SESSION_COLUMNS =
  'id, user_id, token_hash, status, create_time, expire_time, idle_expire_time, last_seen_time, end_time, end_reason, ip_address, user_agent';

/** A sessions row as pg returns it (SELECT {@link SESSION_COLUMNS}). */
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
  };
}

/** One session as the values of {@link SESSION_COLUMNS}, in order. */
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
  ];
}

/** Sessions as twelve column arrays, the parameters of {@link insertSessions}. */
export function sessionColumns(sessions: readonly Session[]): unknown[][] {
  const rows = sessions.map(sessionToParams);
  return Array.from({ length: 12 }, (_, column) => rows.map((row) => row[column]));
}

/** INSERT of the sessions in the twelve arrays of {@link sessionColumns}, bound from `$first` on. */
export const insertSessions = (first: number): string => {
  const $ = (i: number) => `$${first + i}`;
  return `INSERT INTO sessions (${SESSION_COLUMNS})
  SELECT id, user_id, token_hash, status::"SessionStatus", create_time, expire_time,
         idle_expire_time, last_seen_time, end_time, end_reason::"SessionEndReason", ip_address,
         user_agent
  FROM unnest(${$(0)}::uuid[], ${$(1)}::uuid[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::timestamptz[],
              ${$(5)}::timestamptz[], ${$(6)}::timestamptz[], ${$(7)}::timestamptz[], ${$(8)}::timestamptz[],
              ${$(9)}::text[], ${$(10)}::text[], ${$(11)}::text[])
    AS c(id, user_id, token_hash, status, create_time, expire_time, idle_expire_time,
         last_seen_time, end_time, end_reason, ip_address, user_agent)`;
};
