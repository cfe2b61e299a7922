import { outboxColumns, OUTBOX_UNNEST } from '@warden/events';
import type pg from 'pg';
import type { SessionChange } from '../../domain/session-events.js';
import { toEnvelope } from '../../mapping.js';
import { insertSessions, sessionColumns } from './session-rows.js';

/**
 * Every write a set of changes makes, as one statement: new sessions, changed ones, rotated-out
 * token hashes and the outbox rows, each from arrays (empty ones write nothing). One prepared
 * statement serves every command; before, the same writes were four Prisma calls.
 */
const SAVE_CHANGES_SQL = `
WITH created AS (
  ${insertSessions(1)}
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
      ...sessionColumns(created),
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
