import { FORGET_IDEMPOTENCY_OWNER_SQL } from '@warden/db';
import { redactPayload } from '../events/user-event-envelope.js';
import type { TransactionClient } from './prisma-client.js';

/**
 * What a deleted user leaves outside the users table, erased in the deleting transaction: the
 * personal data in their outbox rows (events written before v1.1 carried email and display name;
 * an unpublished row still publishes, redacted) and the idempotent responses about them.
 */
export async function eraseUserTraces(tx: TransactionClient, userId: string): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ id: string; type: string; payload: Uint8Array }>>`
    SELECT id, type, payload FROM outbox WHERE headers->>'ce-subject' = ${userId} FOR UPDATE`;
  for (const row of rows) {
    const redacted = redactPayload(row.type, row.payload);
    if (redacted)
      await tx.$executeRaw`UPDATE outbox SET payload = ${Buffer.from(redacted)} WHERE id = ${row.id}::uuid`;
  }
  await tx.$executeRawUnsafe(FORGET_IDEMPOTENCY_OWNER_SQL, userId);
}
