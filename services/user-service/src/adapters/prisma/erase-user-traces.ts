import { FORGET_IDEMPOTENCY_OWNER_SQL } from '@warden/db';
import type pg from 'pg';
import { ERASE_AUDIT_REASONS_SQL } from '../../audit-mapping.js';
import { redactPayload } from '../../mapping.js';
import { OUTBOX_ROWS_OF_USER_SQL, REDACT_OUTBOX_PAYLOAD_SQL } from './user-sql.js';

/**
 * What a deleted user leaves outside the users table, erased in the deleting transaction: the
 * personal data in their outbox rows (events written before v1.1 carried email and display name;
 * an unpublished row still publishes, redacted), the idempotent responses about them, and the
 * free-text reasons of their audit entries (the entries stay: ids, actions and times only).
 */
export async function eraseUserTraces(client: pg.ClientBase, userId: string): Promise<void> {
  const { rows } = await client.query<{ id: string; type: string; payload: Buffer }>(
    OUTBOX_ROWS_OF_USER_SQL,
    [userId],
  );
  for (const row of rows) {
    const redacted = redactPayload(row.type, row.payload);
    if (redacted) await client.query(REDACT_OUTBOX_PAYLOAD_SQL, [row.id, Buffer.from(redacted)]);
  }
  await client.query(FORGET_IDEMPOTENCY_OWNER_SQL, [userId]);
  await client.query(ERASE_AUDIT_REASONS_SQL, [userId]);
}
