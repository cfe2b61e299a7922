import { FORGET_IDEMPOTENCY_OWNER_SQL } from '@warden/db';
import type pg from 'pg';
import { redactStartedPayload } from '../../mapping.js';
import { DELETE_USER_CHALLENGES_SQL } from './pg-mfa-challenge-store.js';
import {
  BLANK_CLIENT_DATA_SQL,
  REDACT_OUTBOX_PAYLOAD_SQL,
  STARTED_ROWS_OF_USER_SQL,
} from './session-sql.js';

/**
 * A deleted user's personal data here, erased with the caller's transaction: the client data of
 * every session of theirs (ended ones are kept 30 days for the record, without it), that data in
 * their `started` outbox rows (written before v1.1; an unpublished row still publishes, redacted),
 * their pending MFA challenges and the idempotent StartSession responses about them.
 */
export async function eraseUserData(client: pg.ClientBase, userId: string): Promise<void> {
  await client.query(BLANK_CLIENT_DATA_SQL, [userId]);
  const { rows } = await client.query<{ id: string; payload: Buffer }>(STARTED_ROWS_OF_USER_SQL, [
    userId,
  ]);
  for (const row of rows) {
    const redacted = redactStartedPayload(row.payload);
    if (redacted) await client.query(REDACT_OUTBOX_PAYLOAD_SQL, [row.id, Buffer.from(redacted)]);
  }
  await client.query(DELETE_USER_CHALLENGES_SQL, [userId]);
  await client.query(FORGET_IDEMPOTENCY_OWNER_SQL, [userId]);
}
