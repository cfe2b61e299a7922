/** Every statement the authz repository sends to pg itself, in one place. */

export const ROLE_COLUMNS =
  'name, description, permissions, inherits, built_in, create_time, update_time';
export const ASSIGNMENT_COLUMNS =
  'subject_id, role, expire_time, create_time, scope_type, scope_id, bound_session_id';
/** The primary key; an unscoped assignment has scope_type = scope_id = ''. */
const ASSIGNMENT_KEY = '(subject_id, role, scope_type, scope_id)';

/**
 * The change in one statement: the receipt goes in only when no wanted role is missing, and the
 * assignments and the revisions ($7, one per event) only when the receipt went in, so a duplicate
 * or a missing role writes nothing. A role deleted meanwhile fails the assignments' foreign key
 * (23503). The outbox rows follow in the same transaction, stamped with the revisions.
 */
export const ASSIGN_ONCE_SQL = `
WITH wanted AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
    AS w (subject_id, role, expire_time, create_time)
), missing AS (
  SELECT w.role FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.name = w.role)
), receipt AS (
  INSERT INTO processed_events (consumer, event_id, processed_time)
  SELECT $1, $2, now() WHERE NOT EXISTS (SELECT 1 FROM missing)
  ON CONFLICT DO NOTHING
  RETURNING 1
), assigned AS (
  INSERT INTO role_assignments (subject_id, role, expire_time, create_time)
  SELECT subject_id, role, expire_time, create_time FROM wanted WHERE EXISTS (SELECT 1 FROM receipt)
  ON CONFLICT ${ASSIGNMENT_KEY}
  DO UPDATE SET expire_time = EXCLUDED.expire_time, create_time = EXCLUDED.create_time,
    bound_session_id = NULL
  RETURNING 1
), revised AS (
  UPDATE authz_revision SET revision = revision + $7
  WHERE $7 > 0 AND EXISTS (SELECT 1 FROM receipt)
  RETURNING revision
)
SELECT (SELECT count(*) FROM receipt)::int AS applied,
       (SELECT count(*) FROM assigned)::int AS assigned,
       (SELECT revision FROM revised) AS revision,
       ARRAY(SELECT role FROM missing) AS missing`;

/**
 * Takes the next $1 revisions, one per event the write records, and returns the last. The row
 * stays locked to commit: authz writers serialise on it, so revisions follow commit order, and a
 * write rolled back leaves no gap.
 */
export const TAKE_REVISIONS_SQL =
  'UPDATE authz_revision SET revision = revision + $1 RETURNING revision';

export const CURRENT_REVISION_SQL = 'SELECT revision FROM authz_revision';

/** A cache miss, or an event about a cached subject: the primary key serves it. */
export const ASSIGNMENTS_OF_SQL = `SELECT ${ASSIGNMENT_COLUMNS} FROM role_assignments
  WHERE subject_id = $1 ORDER BY role, scope_type, scope_id`;

/** Cache misses that came together ($1: their subject ids), in one scan of the primary key. */
export const ASSIGNMENTS_OF_MANY_SQL = `SELECT ${ASSIGNMENT_COLUMNS} FROM role_assignments
  WHERE subject_id = ANY($1::text[]) ORDER BY subject_id, role, scope_type, scope_id`;

/**
 * Goes with BEGIN: conflicts only with itself and row writers of roles (readers and foreign-key
 * checks pass through), so catalogue changes run one at a time across processes.
 */
export const LOCK_CATALOGUE_SQL = `LOCK TABLE roles IN SHARE ROW EXCLUSIVE MODE;
  SELECT ${ROLE_COLUMNS} FROM roles`;

export const ALL_ROLES_SQL = `SELECT ${ROLE_COLUMNS} FROM roles`;

export const SUBJECT_FOR_UPDATE_SQL = `${ASSIGNMENTS_OF_SQL} FOR UPDATE`;

export const HAS_ACTIVE_HOLDER_SQL = `SELECT EXISTS (
  SELECT 1 FROM role_assignments
  WHERE role = ANY($1::text[]) AND scope_type = '' AND (expire_time IS NULL OR expire_time > $2)
    AND NOT (subject_id IS NOT DISTINCT FROM $3 AND role IS NOT DISTINCT FROM $4)) AS held`;

export const CLAIM_BOOTSTRAP_GRANT_SQL = `INSERT INTO bootstrap_grants (entry, subject_id, grant_time)
  VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`;

export const SAVE_ROLE_SQL = `INSERT INTO roles (${ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description,
    permissions = EXCLUDED.permissions, inherits = EXCLUDED.inherits, built_in = EXCLUDED.built_in,
    create_time = EXCLUDED.create_time, update_time = EXCLUDED.update_time`;

/** Their assignments go with them (ON DELETE CASCADE). */
export const DELETE_ROLES_SQL = 'DELETE FROM roles WHERE name = ANY($1::text[])';

export const SAVE_ASSIGNMENTS_SQL = `INSERT INTO role_assignments (${ASSIGNMENT_COLUMNS})
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[],
    $5::text[], $6::text[], $7::text[])
  ON CONFLICT ${ASSIGNMENT_KEY}
  DO UPDATE SET expire_time = EXCLUDED.expire_time, create_time = EXCLUDED.create_time,
    bound_session_id = EXCLUDED.bound_session_id`;

export const DELETE_ASSIGNMENTS_SQL = `DELETE FROM role_assignments
  WHERE ${ASSIGNMENT_KEY} IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`;

export const TAKE_LAPSED_SQL = `DELETE FROM role_assignments WHERE ${ASSIGNMENT_KEY} IN (
    SELECT subject_id, role, scope_type, scope_id FROM role_assignments
    WHERE expire_time <= $1
    ORDER BY expire_time
    LIMIT $2
    FOR UPDATE SKIP LOCKED)
  RETURNING ${ASSIGNMENT_COLUMNS}`;

export const FIND_ROLE_SQL = `SELECT ${ROLE_COLUMNS} FROM roles WHERE name = $1`;
export const BOOTSTRAP_GRANTS_SQL = 'SELECT entry FROM bootstrap_grants ORDER BY entry';

/** Roles by name, after $1 when it is not null. */
export const LIST_ROLES_SQL = `SELECT ${ROLE_COLUMNS} FROM roles
  WHERE $1::text IS NULL OR name > $1 ORDER BY name LIMIT $2`;

const UNEXPIRED = '(expire_time IS NULL OR expire_time > $1)';

/**
 * Unexpired at $1, filtered by subject $2, role $3 and scope ($7, $8) when not null, after the key
 * ($4, $5, $9, $10) when $4 is not null; unscoped ('') first.
 */
export const LIST_ASSIGNMENTS_SQL = `SELECT ${ASSIGNMENT_COLUMNS} FROM role_assignments
  WHERE ${UNEXPIRED}
    AND ($2::text IS NULL OR subject_id = $2)
    AND ($3::text IS NULL OR role = $3)
    AND ($7::text IS NULL OR (scope_type = $7 AND scope_id = $8::text))
    AND ($4::text IS NULL OR ${ASSIGNMENT_KEY} > ($4, $5::text, $9::text, $10::text))
  ORDER BY subject_id, role, scope_type, scope_id
  LIMIT $6`;

/**
 * One session's lock, in a key space of its own: the session-ended write and an assignment bound
 * to that session take it, so one of them sees the other's commit.
 */
export const LOCK_SESSION_SQL = `SELECT pg_advisory_xact_lock(hashtextextended('warden-authz-session:' || $1, 0))`;

export const SESSION_ENDED_SQL =
  'SELECT EXISTS (SELECT 1 FROM ended_sessions WHERE session_id = $1) AS ended';

export const RECORD_ENDED_SESSION_SQL = `INSERT INTO ended_sessions (session_id, end_time, record_time)
  VALUES ($1, $2, $3) ON CONFLICT (session_id) DO NOTHING`;

/** The grants bound to session $1 (the partial index on bound_session_id serves it). */
export const TAKE_BOUND_SQL = `DELETE FROM role_assignments WHERE bound_session_id = $1
  RETURNING ${ASSIGNMENT_COLUMNS}`;

export const FORGET_ENDED_SESSIONS_SQL = `DELETE FROM ended_sessions WHERE session_id IN (
    SELECT session_id FROM ended_sessions WHERE record_time < $1 ORDER BY record_time LIMIT $2
    FOR UPDATE SKIP LOCKED)`;

/**
 * LookupSubjects' page, from the index (role, scope_type, scope_id, subject_id): each slice open
 * to anyone ($1..$3: role, scope_type, scope_id; '' '' unscoped) is one range scan after $8 ('' on
 * the first page) cut at $10 rows, each slice limited to one subject ($4..$7, an :own grant's
 * owner) one primary-key lookup; then the union is merged, deduplicated and cut at $10 again. A
 * page reads at most (slices x $10) rows however many subjects hold the roles. Unexpired at $9.
 */
export const HOLDERS_OF_SQL = `SELECT subject_id FROM (
    SELECT h.subject_id
    FROM unnest($1::text[], $2::text[], $3::text[]) AS s (role, scope_type, scope_id)
    CROSS JOIN LATERAL (
      SELECT a.subject_id FROM role_assignments a
      WHERE a.role = s.role AND a.scope_type = s.scope_type AND a.scope_id = s.scope_id
        AND a.subject_id > $8 AND (a.expire_time IS NULL OR a.expire_time > $9)
      ORDER BY a.subject_id
      LIMIT $10) h
    UNION ALL
    SELECT a.subject_id
    FROM unnest($4::text[], $5::text[], $6::text[], $7::text[])
      AS s (role, scope_type, scope_id, subject_id)
    JOIN role_assignments a ON a.subject_id = s.subject_id AND a.role = s.role
      AND a.scope_type = s.scope_type AND a.scope_id = s.scope_id
    WHERE a.subject_id > $8 AND (a.expire_time IS NULL OR a.expire_time > $9)
  ) holders
  GROUP BY subject_id
  ORDER BY subject_id
  LIMIT $10`;
