import { completeIdempotencySql } from '@warden/db';
import { AUDIT_INSERT, OUTBOX_UNNEST } from '@warden/events';

/** Every statement the session repository sends to pg, in one place. */

/** The sessions columns, in the order session-rows.ts reads and writes them. */
export const SESSION_COLUMNS =
  'id, user_id, token_hash, status, create_time, expire_time, idle_expire_time, last_seen_time, end_time, end_reason, ip_address, user_agent, second_factor';

/** INSERT of the sessions in the thirteen arrays of {@link sessionColumns}, bound from `$first` on. */
export const insertSessions = (first: number): string => {
  const $ = (i: number) => `$${first + i}`;
  return `INSERT INTO sessions (${SESSION_COLUMNS})
  SELECT id, user_id, token_hash, status::"SessionStatus", create_time, expire_time,
         idle_expire_time, last_seen_time, end_time, end_reason::"SessionEndReason", ip_address,
         user_agent, second_factor
  FROM unnest(${$(0)}::uuid[], ${$(1)}::uuid[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::timestamptz[],
              ${$(5)}::timestamptz[], ${$(6)}::timestamptz[], ${$(7)}::timestamptz[], ${$(8)}::timestamptz[],
              ${$(9)}::text[], ${$(10)}::text[], ${$(11)}::text[], ${$(12)}::text[])
    AS c(id, user_id, token_hash, status, create_time, expire_time, idle_expire_time,
         last_seen_time, end_time, end_reason, ip_address, user_agent, second_factor)`;
};

/**
 * The parts of a save, each a statement over `params` parameters bound from `$first` on (column
 * arrays, but for the one answer); a save writes only the parts it has rows for (see
 * {@link saveChangesSql}).
 */
export const SAVE_PARTS = {
  /** New sessions: the thirteen arrays of `sessionColumns`. */
  created: { params: 13, sql: insertSessions },
  /** Changed sessions: id, token hash, status, last seen, idle expiry, end time, end reason. */
  changed: {
    params: 7,
    sql: (first: number): string => {
      const $ = (i: number) => `$${first + i}`;
      return `UPDATE sessions AS s
  SET token_hash = u.token_hash,
      status = u.status::"SessionStatus",
      last_seen_time = u.last_seen_time,
      idle_expire_time = u.idle_expire_time,
      end_time = u.end_time,
      end_reason = u.end_reason::"SessionEndReason"
  FROM unnest(${$(0)}::uuid[], ${$(1)}::text[], ${$(2)}::text[], ${$(3)}::timestamptz[], ${$(4)}::timestamptz[],
              ${$(5)}::timestamptz[], ${$(6)}::text[])
    AS u(id, token_hash, status, last_seen_time, idle_expire_time, end_time, end_reason)
  WHERE s.id = u.id`;
    },
  },
  /** Rotated-out token hashes: hash, session id, rotate time. */
  rotated: {
    params: 3,
    sql: (
      first: number,
    ): string => `INSERT INTO rotated_tokens (token_hash, session_id, rotate_time)
  SELECT * FROM unnest($${first}::text[], $${first + 1}::uuid[], $${first + 2}::timestamptz[])`,
  },
  /** The outbox rows: the six arrays of `outboxColumns`. */
  outboxed: {
    params: 6,
    sql: (
      first: number,
    ): string => `INSERT INTO outbox (id, subject, type, payload, headers, create_time)
  SELECT * FROM ${OUTBOX_UNNEST(first)}`,
  },
  /** Their audit entries: the thirteen arrays of `auditColumns`. */
  audit: { params: 13, sql: (first: number): string => AUDIT_INSERT(first) },
  /**
   * The link of a new session to the request that started it (`session_start_requests`: the
   * idempotency record's address; a request re-run after a crash points at its newer session).
   */
  linked: {
    params: 2,
    sql: (first: number): string => `INSERT INTO session_start_requests (request_hash, session_id)
  SELECT * FROM unnest($${first}::text[], $${first + 1}::uuid[])
  ON CONFLICT (request_hash) DO UPDATE SET session_id = EXCLUDED.session_id`,
  },
  /**
   * A request_id's stored answer (key hash, sealed response, owner) in its pending idempotency
   * record, with PgIdempotencyStore.complete's statement: committed with the session it describes.
   */
  answered: { params: 3, sql: completeIdempotencySql },
} as const;

export type SavePart = keyof typeof SAVE_PARTS;

/**
 * Every write a set of changes makes, as one statement: of {@link SAVE_PARTS}, those `parts`
 * (in that order), each a data-modifying CTE but the last. A part with no rows is left out rather
 * than run over empty arrays (a sign-in wrote an UPDATE, a rotation and a link of nothing: about a
 * fifth of its Postgres CPU), so each shape of change is its own statement, prepared once per
 * connection; a sign-in with a request_id still costs no round trip more than one without.
 */
export function saveChangesSql(parts: readonly SavePart[]): string {
  let first = 1;
  const statements = parts.map((part) => {
    const { params, sql } = SAVE_PARTS[part];
    const statement = sql(first);
    first += params;
    return statement;
  });
  const last = statements.pop();
  if (last === undefined) throw new Error('a save writes at least one part');
  if (statements.length === 0) return last;
  return `WITH ${statements.map((statement, i) => `${parts[i]} AS (\n  ${statement}\n)`).join(', ')}\n${last}`;
}

export const SESSION_BY_ID_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`;

/** A session with its row version (xmin), for {@link SAVE_IF_UNCHANGED_SQL}. */
export const VERSIONED_SESSION_BY_ID_SQL = `SELECT xmin::text AS version, ${SESSION_COLUMNS}
  FROM sessions WHERE id = $1`;

/**
 * One changed session ($1), written only if its row is still the version read ($8, its xmin: any
 * committed write since, or one committing meanwhile, gives the row another), with its rotated-out
 * token hash, outbox rows and audit entries, which go in only with it. One statement, so no
 * BEGIN/COMMIT around it; `saved` is 0 when the row changed or is gone.
 */
export const SAVE_IF_UNCHANGED_SQL = `
WITH changed AS (
  UPDATE sessions AS s
  SET token_hash = $2,
      status = $3::text::"SessionStatus",
      last_seen_time = $4,
      idle_expire_time = $5,
      end_time = $6,
      end_reason = $7::text::"SessionEndReason"
  WHERE s.id = $1 AND s.xmin = $8::text::xid
  RETURNING s.id
), rotated AS (
  INSERT INTO rotated_tokens (token_hash, session_id, rotate_time)
  SELECT * FROM unnest($9::text[], $10::uuid[], $11::timestamptz[])
  WHERE EXISTS (SELECT 1 FROM changed)
), outboxed AS (
  INSERT INTO outbox (id, subject, type, payload, headers, create_time)
  SELECT * FROM ${OUTBOX_UNNEST(12)}
  WHERE EXISTS (SELECT 1 FROM changed)
), audit AS (
  ${AUDIT_INSERT(18, 'WHERE EXISTS (SELECT 1 FROM changed)')}
)
SELECT count(*)::int AS saved FROM changed`;
export const SESSION_BY_TOKEN_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE token_hash = $1`;

export const SESSION_BY_ROTATED_TOKEN_SQL = `SELECT ${SESSION_COLUMNS.split(', ')
  .map((column) => `s.${column}`)
  .join(', ')}
  FROM rotated_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = $1`;

/** A user's active sessions, newest first; with `keyset`, after ($4 create_time, $5 id). */
export const listActiveSql = (keyset: boolean): string => `SELECT ${SESSION_COLUMNS} FROM sessions
  WHERE user_id = $1 AND status = 'ACTIVE' AND expire_time > $2 AND idle_expire_time > $2
  ${keyset ? 'AND (create_time, id) < ($4, $5::uuid)' : ''}
  ORDER BY create_time DESC, id DESC
  LIMIT $3`;

/** Goes with BEGIN, so `id` must have passed isUuid: it is inlined. */
export const lockSessionSql = (id: string): string =>
  `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = '${id}' FOR UPDATE`;

/** Advisory lock namespace (first key) for "one writer per user's session set". */
const USER_SESSIONS_LOCK = 0x5e55;

/** The user's lock and active sessions; goes with BEGIN, so `userId` must have passed isUuid. */
export const lockUserSessionsSql = (userId: string): string =>
  `SELECT pg_advisory_xact_lock(${USER_SESSIONS_LOCK}, hashtext('${userId}'));
  SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = '${userId}' AND status = 'ACTIVE'`;

/**
 * Activity forward only. SKIP LOCKED: a row another transaction is changing (ending, refreshing)
 * is left alone, so the flusher never waits on, or deadlocks with, a user-facing write.
 */
export const RECORD_ACTIVITY_SQL = `UPDATE sessions AS s
  SET last_seen_time = GREATEST(s.last_seen_time, u.last_seen_time),
      idle_expire_time = GREATEST(s.idle_expire_time, u.idle_expire_time)
  FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])
    AS u(id, last_seen_time, idle_expire_time)
  WHERE s.id = u.id
    AND s.id IN (SELECT id FROM sessions WHERE id = ANY($1::uuid[]) AND status = 'ACTIVE'
                 FOR UPDATE SKIP LOCKED)`;

/**
 * Active sessions past their idle ($1) or absolute ($2) expiry, a batch of $3, locked. Each expiry
 * is its own range scan of its (status, time) index, bounded by the batch: with the two as one OR,
 * Postgres walked every active session's index entry to find none due (bench/data-growth.ts: 642 ms
 * at 1M active sessions). Each scan skips the rows other sweepers hold before its LIMIT, so
 * concurrent sweepers share the due sessions instead of one finding only locked candidates and
 * stopping early; the outer lock (on rows this statement holds) reads their latest version.
 */
export const SESSIONS_DUE_SQL = `WITH idle AS (
      SELECT id FROM sessions WHERE status = 'ACTIVE' AND idle_expire_time <= $1
      ORDER BY idle_expire_time LIMIT $3 FOR UPDATE SKIP LOCKED),
    absolute AS (
      SELECT id FROM sessions WHERE status = 'ACTIVE' AND expire_time <= $2
      ORDER BY expire_time LIMIT $3 FOR UPDATE SKIP LOCKED)
  SELECT ${SESSION_COLUMNS} FROM sessions
  WHERE id IN (SELECT id FROM idle UNION ALL SELECT id FROM absolute)
    AND status = 'ACTIVE' AND (idle_expire_time <= $1 OR expire_time <= $2)
  ORDER BY idle_expire_time
  LIMIT $3
  FOR UPDATE`;

/** Rotated tokens go with their session (ON DELETE CASCADE). */
export const PURGE_ENDED_SQL = `DELETE FROM sessions WHERE id IN (
  SELECT id FROM sessions
  WHERE status <> 'ACTIVE' AND end_time < $1
  ORDER BY end_time
  LIMIT $2
  FOR UPDATE SKIP LOCKED)`;

/** A deleted user's client data, on every session of theirs. */
export const BLANK_CLIENT_DATA_SQL = `UPDATE sessions SET ip_address = '', user_agent = ''
  WHERE user_id = $1 AND (ip_address <> '' OR user_agent <> '')`;

/** Their `started` outbox rows, locked for {@link REDACT_OUTBOX_PAYLOAD_SQL}. */
export const STARTED_ROWS_OF_USER_SQL = `SELECT o.id, o.payload FROM outbox o
  WHERE o.type = 'warden.session.v1.started'
    AND o.headers->>'ce-subject' IN (SELECT id::text FROM sessions WHERE user_id = $1)
  FOR UPDATE`;
export const REDACT_OUTBOX_PAYLOAD_SQL = 'UPDATE outbox SET payload = $2 WHERE id = $1';

export const SESSION_BY_START_REQUEST_SQL = `SELECT ${SESSION_COLUMNS.split(', ')
  .map((column) => `s.${column}`)
  .join(', ')}
  FROM session_start_requests r JOIN sessions s ON s.id = r.session_id WHERE r.request_hash = $1`;
