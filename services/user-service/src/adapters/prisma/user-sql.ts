import { OUTBOX_UNNEST } from '@warden/events';

/** Every statement the user repository sends to pg, in one place. */

export const USER_COLUMNS =
  'id, email, display_name, password_hash, status, create_time, update_time';

/** The user and its events in one statement: the outbox rows go in only if the user did. */
export const ADD_USER_SQL = `
WITH created AS (
  INSERT INTO users (${USER_COLUMNS})
  VALUES ($1::uuid, $2, $3, $4, $5::"UserStatus", $6, $7)
  RETURNING 1
)
INSERT INTO outbox (id, subject, type, payload, headers, create_time)
SELECT * FROM ${OUTBOX_UNNEST(8)} WHERE EXISTS (SELECT 1 FROM created)`;

export const USER_BY_ID_SQL = `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`;
export const USER_BY_EMAIL_SQL = `SELECT ${USER_COLUMNS} FROM users WHERE email = $1`;

/** The user's row, locked until the transaction ends: concurrent changes apply one after the other. */
export const LOCK_USER_SQL = `${USER_BY_ID_SQL} FOR UPDATE`;

export const UPDATE_USER_SQL = `UPDATE users
  SET display_name = $2, password_hash = $3, status = $4::"UserStatus", update_time = $5
  WHERE id = $1`;

export const DELETE_USER_SQL = 'DELETE FROM users WHERE id = $1';
export const FORGET_LOGIN_FAILURES_SQL = 'DELETE FROM login_failures WHERE email = $1';

/** A deleted user's outbox rows, locked for {@link REDACT_OUTBOX_PAYLOAD_SQL}. */
export const OUTBOX_ROWS_OF_USER_SQL = `SELECT id, type, payload FROM outbox
  WHERE headers->>'ce-subject' = $1 FOR UPDATE`;
export const REDACT_OUTBOX_PAYLOAD_SQL = 'UPDATE outbox SET payload = $2 WHERE id = $1';
