import { OUTBOX_UNNEST } from '@warden/events';

/** Every statement the authz repository sends to pg itself, in one place. */

export const ROLE_COLUMNS =
  'name, description, permissions, inherits, built_in, create_time, update_time';
export const ASSIGNMENT_COLUMNS = 'subject_id, role, expire_time, create_time';

/**
 * Every change in one statement: the receipt goes in only when no wanted role is missing, and the
 * assignments and outbox rows only when the receipt went in, so a duplicate or a missing role
 * writes nothing. A role deleted meanwhile fails the assignments' foreign key (23503).
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
  ON CONFLICT (subject_id, role)
  DO UPDATE SET expire_time = EXCLUDED.expire_time, create_time = EXCLUDED.create_time
  RETURNING 1
), announced AS (
  INSERT INTO outbox (id, subject, type, payload, headers, create_time)
  SELECT * FROM ${OUTBOX_UNNEST(7)} WHERE EXISTS (SELECT 1 FROM receipt)
  RETURNING 1
)
SELECT (SELECT count(*) FROM receipt)::int AS applied,
       (SELECT count(*) FROM assigned)::int AS assigned,
       (SELECT count(*) FROM announced)::int AS announced,
       ARRAY(SELECT role FROM missing) AS missing`;

/** A cache miss, or an event about a cached subject: the primary key (subject_id, role) serves it. */
export const ASSIGNMENTS_OF_SQL = `SELECT ${ASSIGNMENT_COLUMNS} FROM role_assignments
  WHERE subject_id = $1 ORDER BY role`;

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
  WHERE role = ANY($1::text[]) AND (expire_time IS NULL OR expire_time > $2)
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
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
  ON CONFLICT (subject_id, role)
  DO UPDATE SET expire_time = EXCLUDED.expire_time, create_time = EXCLUDED.create_time`;

export const DELETE_ASSIGNMENTS_SQL = `DELETE FROM role_assignments
  WHERE (subject_id, role) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;

export const TAKE_LAPSED_SQL = `DELETE FROM role_assignments WHERE (subject_id, role) IN (
    SELECT subject_id, role FROM role_assignments
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

/** Unexpired at $1, filtered by subject $2 and role $3 when not null, after ($4, $5) when $4 is not null. */
export const LIST_ASSIGNMENTS_SQL = `SELECT ${ASSIGNMENT_COLUMNS} FROM role_assignments
  WHERE ${UNEXPIRED}
    AND ($2::text IS NULL OR subject_id = $2)
    AND ($3::text IS NULL OR role = $3)
    AND ($4::text IS NULL OR (subject_id, role) > ($4, $5::text))
  ORDER BY subject_id, role
  LIMIT $6`;
