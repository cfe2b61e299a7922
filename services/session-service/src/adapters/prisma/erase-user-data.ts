import { FORGET_IDEMPOTENCY_OWNER_SQL } from '@warden/db';
import type pg from 'pg';
import { redactStartedPayload } from '../../mapping.js';

/**
 * A deleted user's personal data here, erased with the caller's transaction: the client data of
 * every session of theirs (ended ones are kept 30 days for the record, without it), that data in
 * their `started` outbox rows (written before v1.1; an unpublished row still publishes, redacted)
 * and the idempotent StartSession responses about them.
 */
export async function eraseUserData(client: pg.ClientBase, userId: string): Promise<void> {
  await client.query(
    `UPDATE sessions SET ip_address = '', user_agent = ''
     WHERE user_id = $1 AND (ip_address <> '' OR user_agent <> '')`,
    [userId],
  );
  const { rows } = await client.query<{ id: string; payload: Buffer }>(
    `SELECT o.id, o.payload FROM outbox o
     WHERE o.type = 'warden.session.v1.started'
       AND o.headers->>'ce-subject' IN (SELECT id::text FROM sessions WHERE user_id = $1)
     FOR UPDATE`,
    [userId],
  );
  for (const row of rows) {
    const redacted = redactStartedPayload(row.payload);
    if (redacted)
      await client.query('UPDATE outbox SET payload = $2 WHERE id = $1', [
        row.id,
        Buffer.from(redacted),
      ]);
  }
  await client.query(FORGET_IDEMPOTENCY_OWNER_SQL, [userId]);
}
