import { AUDIT_COLUMNS, AUDIT_INSERT, OUTBOX_UNNEST } from '@warden/events';

/** Every statement the user repository sends to pg, in one place. */

export const USER_COLUMNS =
  'id, email, display_name, password_hash, status, create_time, update_time, email_verified, external_id, metadata, mfa_enabled';

/**
 * The user, its events and their audit entries in one statement: the outbox and audit rows go in
 * only if the user did.
 */
export const ADD_USER_SQL = `
WITH created AS (
  INSERT INTO users (${USER_COLUMNS})
  VALUES ($1::uuid, $2, $3, $4, $5::"UserStatus", $6, $7, $8, $9, $10::jsonb, $11)
  RETURNING 1
), audit AS (
  ${AUDIT_INSERT(18, 'WHERE EXISTS (SELECT 1 FROM created)')}
)
INSERT INTO outbox (id, subject, type, payload, headers, create_time)
SELECT * FROM ${OUTBOX_UNNEST(12)} WHERE EXISTS (SELECT 1 FROM created)`;

/**
 * Many users (ImportUsers) in one statement: rows whose email or external id is taken are skipped
 * (ON CONFLICT DO NOTHING) and return nothing; the caller writes the outbox rows of those returned.
 */
export const ADD_USERS_SQL = `
INSERT INTO users (${USER_COLUMNS})
SELECT id, email, display_name, password_hash, 'ACTIVE'::"UserStatus", create_time, create_time,
       email_verified, external_id, metadata, false
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::boolean[],
            $7::text[], $8::jsonb[])
  AS r(id, email, display_name, password_hash, create_time, email_verified, external_id, metadata)
ON CONFLICT DO NOTHING
RETURNING id`;

/** Which of these emails and external ids are taken (after ADD_USERS_SQL skipped rows). */
export const TAKEN_SQL = `SELECT email, external_id FROM users
  WHERE email = ANY($1::text[]) OR external_id = ANY($2::text[])`;

export const USER_BY_ID_SQL = `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`;
export const USER_BY_EMAIL_SQL = `SELECT ${USER_COLUMNS} FROM users WHERE email = $1`;

/** The user's row, locked until the transaction ends: concurrent changes apply one after the other. */
export const LOCK_USER_SQL = `${USER_BY_ID_SQL} FOR UPDATE`;

export const UPDATE_USER_SQL = `UPDATE users
  SET display_name = $2, password_hash = $3, status = $4::"UserStatus", update_time = $5,
      email_verified = $6, external_id = $7, metadata = $8::jsonb, mfa_enabled = $9
  WHERE id = $1`;

/** Replaces the user's code of a purpose (a new one voids the old). */
export const ISSUE_CODE_FOR_USER_SQL = `INSERT INTO user_codes
  (user_id, purpose, code_hash, expire_time, attempts, create_time)
  VALUES ($1::uuid, $2, $3, $4, 0, $5)
  ON CONFLICT (user_id, purpose) DO UPDATE
  SET code_hash = EXCLUDED.code_hash, expire_time = EXCLUDED.expire_time, attempts = 0,
      create_time = EXCLUDED.create_time`;

/**
 * The same for the active user with an email, in one statement that does the same work whether or
 * not there is one (RequestPasswordReset must not tell): it inserts nothing for an unknown email.
 * It commits without waiting for the WAL flush, which only the known email's write would wait for
 * (milliseconds that would tell it apart); a crash may lose the code, and the user asks again.
 */
export const ISSUE_CODE_FOR_EMAIL_SQL = `WITH issued AS (
  INSERT INTO user_codes (user_id, purpose, code_hash, expire_time, attempts, create_time)
  SELECT u.id, $2, $3, $4, 0, $5
  FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit, users u
  WHERE u.email = $1 AND u.status = 'ACTIVE'
  ON CONFLICT (user_id, purpose) DO UPDATE
  SET code_hash = EXCLUDED.code_hash, expire_time = EXCLUDED.expire_time, attempts = 0,
      create_time = EXCLUDED.create_time
  RETURNING user_id
), audit AS (
  -- The audit entry (AUDIT_INSERT's thirteen arrays, one entry) of the user found, if any.
  INSERT INTO audit_events (${AUDIT_COLUMNS})
  SELECT a.id, a.time, a.actor_type, a.actor_id, a.via_service, a.action, a.target_type,
         i.user_id::text, a.request_id, a.trace_id, a.reason, a.event_id, a.details
  FROM issued i, unnest($6::uuid[], $7::timestamptz[], $8::text[], $9::text[], $10::text[],
              $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
              $17::uuid[], $18::jsonb[])
    AS a(id, time, actor_type, actor_id, via_service, action, target_type, target_id, request_id,
         trace_id, reason, event_id, details)
)
SELECT count(*)::int AS issued FROM issued`;

export const LOCK_USER_BY_EMAIL_SQL = `${USER_BY_EMAIL_SQL} FOR UPDATE`;
export const LOCK_CODE_SQL = `SELECT code_hash, expire_time, attempts FROM user_codes
  WHERE user_id = $1 AND purpose = $2 FOR UPDATE`;
export const COUNT_CODE_ATTEMPT_SQL =
  'UPDATE user_codes SET attempts = $3 WHERE user_id = $1 AND purpose = $2';
export const DELETE_CODE_SQL = 'DELETE FROM user_codes WHERE user_id = $1 AND purpose = $2';

export const DELETE_USER_SQL = 'DELETE FROM users WHERE id = $1';
export const FORGET_LOGIN_FAILURES_SQL = 'DELETE FROM login_failures WHERE email = $1';

/** A deleted user's outbox rows, locked for {@link REDACT_OUTBOX_PAYLOAD_SQL}. */
export const OUTBOX_ROWS_OF_USER_SQL = `SELECT id, type, payload FROM outbox
  WHERE headers->>'ce-subject' = $1 FOR UPDATE`;
export const REDACT_OUTBOX_PAYLOAD_SQL = 'UPDATE outbox SET payload = $2 WHERE id = $1';
