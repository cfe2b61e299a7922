import { outboxInsertStatement } from '@warden/events';
import type { SessionChange } from '../../domain/session-events.js';
import { toEnvelope } from '../events/session-event-envelope.js';
import type { TransactionClient } from './prisma-client.js';
import { toRow } from './session-rows.js';

/**
 * Writes changes and their outbox rows with the caller's transaction: new sessions in one insert,
 * changed ones in one UPDATE ... FROM unnest, rotated-out token hashes, then the events.
 */
export async function saveChanges(
  tx: TransactionClient,
  changes: readonly SessionChange[],
  traceparent?: string,
): Promise<void> {
  if (changes.length === 0) return;
  const created = changes.filter((c) => c.event === 'started').map((c) => toRow(c.session));
  const updated = changes.filter((c) => c.event !== 'started').map((c) => c.session);
  if (created.length > 0) await tx.session.createMany({ data: created });
  if (updated.length > 0) {
    await tx.$executeRaw`
      UPDATE sessions AS s
      SET token_hash = u.token_hash,
          status = u.status::"SessionStatus",
          last_seen_time = u.last_seen_time,
          idle_expire_time = u.idle_expire_time,
          end_time = u.end_time,
          end_reason = u.end_reason::"SessionEndReason"
      FROM unnest(
        ${updated.map((s) => s.id)}::uuid[],
        ${updated.map((s) => s.tokenHash)}::text[],
        ${updated.map((s) => s.status)}::text[],
        ${updated.map((s) => s.lastSeenTime.toISOString())}::timestamptz[],
        ${updated.map((s) => s.idleExpireTime.toISOString())}::timestamptz[],
        ${updated.map((s) => s.endTime?.toISOString() ?? null)}::timestamptz[],
        ${updated.map((s) => s.endReason)}::text[]
      ) AS u(id, token_hash, status, last_seen_time, idle_expire_time, end_time, end_reason)
      WHERE s.id = u.id`;
  }
  const rotated = changes.filter((c) => c.rotatedTokenHash !== undefined);
  if (rotated.length > 0) {
    await tx.rotatedToken.createMany({
      data: rotated.map((c) => ({
        tokenHash: c.rotatedTokenHash!,
        sessionId: c.session.id,
        rotateTime: c.session.lastSeenTime,
      })),
    });
  }
  const events = changes.filter((c) => c.event !== undefined);
  if (events.length > 0) {
    const insert = outboxInsertStatement(
      events.map((c) => toEnvelope(c.event!, c.session, traceparent)),
    );
    await tx.$executeRawUnsafe(insert.sql, ...insert.values);
  }
}
