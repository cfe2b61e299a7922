import { outboxColumns, OUTBOX_UNNEST } from '@warden/events';
import type pg from 'pg';
import type { SessionChange } from '../../domain/session-events.js';
import type { Session } from '../../domain/session.js';
import { toEnvelope } from '../events/session-event-envelope.js';

/** The sessions columns, in the order {@link fromRow} reads them. */
export const SESSION_COLUMNS =
  'id, user_id, token_hash, status, create_time, expire_time, idle_expire_time, last_seen_time, end_time, end_reason, ip_address, user_agent';

/**
 * Every write a set of changes makes, as one statement: new sessions, changed ones, rotated-out
 * token hashes and the outbox rows, each from arrays (empty ones write nothing). One prepared
 * statement serves every command; before, the same writes were four Prisma calls.
 */
const SAVE_CHANGES_SQL = `
WITH created AS (
  INSERT INTO sessions (${SESSION_COLUMNS})
  SELECT id, user_id, token_hash, status::"SessionStatus", create_time, expire_time,
         idle_expire_time, last_seen_time, end_time, end_reason::"SessionEndReason", ip_address,
         user_agent
  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[],
              $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[],
              $10::text[], $11::text[], $12::text[])
    AS c(id, user_id, token_hash, status, create_time, expire_time, idle_expire_time,
         last_seen_time, end_time, end_reason, ip_address, user_agent)
), changed AS (
  UPDATE sessions AS s
  SET token_hash = u.token_hash,
      status = u.status::"SessionStatus",
      last_seen_time = u.last_seen_time,
      idle_expire_time = u.idle_expire_time,
      end_time = u.end_time,
      end_reason = u.end_reason::"SessionEndReason"
  FROM unnest($13::uuid[], $14::text[], $15::text[], $16::timestamptz[], $17::timestamptz[],
              $18::timestamptz[], $19::text[])
    AS u(id, token_hash, status, last_seen_time, idle_expire_time, end_time, end_reason)
  WHERE s.id = u.id
), rotated AS (
  INSERT INTO rotated_tokens (token_hash, session_id, rotate_time)
  SELECT * FROM unnest($20::text[], $21::uuid[], $22::timestamptz[])
)
INSERT INTO outbox (id, subject, type, payload, headers, create_time)
SELECT * FROM ${OUTBOX_UNNEST(23)}`;

/** Writes changes and their outbox rows with the caller's transaction (a pg client in one). */
export async function saveChanges(
  client: pg.ClientBase,
  changes: readonly SessionChange[],
  traceparent?: string,
): Promise<void> {
  if (changes.length === 0) return;
  const created = changes.filter((c) => c.event === 'started').map((c) => c.session);
  const updated = changes.filter((c) => c.event !== 'started').map((c) => c.session);
  const rotated = changes.filter((c) => c.rotatedTokenHash !== undefined);
  const events = changes
    .filter((c) => c.event !== undefined)
    .map((c) => toEnvelope(c.event!, c.session, traceparent));
  await client.query({
    name: 'warden-session-save', // prepared once per connection
    text: SAVE_CHANGES_SQL,
    values: [
      created.map((s) => s.id),
      created.map((s) => s.userId),
      created.map((s) => s.tokenHash),
      created.map((s) => s.status),
      created.map((s) => s.createTime),
      created.map((s) => s.expireTime),
      created.map((s) => s.idleExpireTime),
      created.map((s) => s.lastSeenTime),
      created.map((s) => s.endTime),
      created.map((s) => s.endReason),
      created.map((s) => s.client.ipAddress),
      created.map((s) => s.client.userAgent),
      updated.map((s) => s.id),
      updated.map((s) => s.tokenHash),
      updated.map((s) => s.status),
      updated.map((s) => s.lastSeenTime),
      updated.map((s) => s.idleExpireTime),
      updated.map((s) => s.endTime),
      updated.map((s) => s.endReason),
      rotated.map((c) => c.rotatedTokenHash!),
      rotated.map((c) => c.session.id),
      rotated.map((c) => c.session.lastSeenTime),
      ...outboxColumns(events),
    ],
  });
}

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

export function fromRow(row: SessionRow): Session {
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
