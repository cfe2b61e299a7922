import { auditColumns, auditEntriesOf, outboxColumns } from '@warden/events';
import type pg from 'pg';
import type { SessionChange } from '../../domain/session-events.js';
import { toEnvelope } from '../../mapping.js';
import { sessionColumns } from './session-rows.js';
import { SAVE_CHANGES_SQL, SAVE_IF_UNCHANGED_SQL } from './session-sql.js';

/**
 * Writes changes, their outbox rows and their audit entries with the caller's transaction (a pg
 * client in one), in one statement; with `startRequest` (a request's idempotency record address),
 * the session the changes start is linked to it in the same statement.
 */
export async function saveChanges(
  client: pg.ClientBase,
  changes: readonly SessionChange[],
  options: { traceparent?: string | undefined; startRequest?: string | undefined } = {},
): Promise<void> {
  if (changes.length === 0) return;
  const { traceparent, startRequest } = options;
  const created = changes.filter((c) => c.event === 'started').map((c) => c.session);
  const started = startRequest ? created.slice(0, 1) : [];
  const updated = changes.filter((c) => c.event !== 'started').map((c) => c.session);
  const rotated = changes.filter((c) => c.rotatedTokenHash !== undefined);
  const events = changes
    .filter((c) => c.event !== undefined)
    .map((c) => toEnvelope(c.event!, c.session, traceparent));
  await client.query({
    name: 'warden-session-save', // prepared once per connection
    text: SAVE_CHANGES_SQL,
    values: [
      ...sessionColumns(created),
      updated.map((s) => s.id),
      updated.map((s) => s.tokenHash),
      updated.map((s) => s.status),
      updated.map((s) => s.lastSeenTime),
      updated.map((s) => s.idleExpireTime),
      updated.map((s) => s.endTime),
      updated.map((s) => s.endReason),
      rotated.map((c) => c.rotatedTokenHash!),
      rotated.map((c) => c.session.id),
      rotated.map((c) => c.session.lastSeenTime),
      ...outboxColumns(events),
      ...auditColumns(auditEntriesOf(events)),
      started.map(() => startRequest),
      started.map((s) => s.id),
    ],
  });
}

/**
 * Writes one changed session, its outbox rows and audit entries in one statement of its own (no
 * transaction), only if the row is still at `version` (the xmin it was read with); false, with
 * nothing written, when another write changed or removed it since.
 */
export async function saveIfUnchanged(
  pool: pg.Pool,
  change: SessionChange,
  version: string,
  traceparent?: string,
): Promise<boolean> {
  const { session } = change;
  const events = change.event ? [toEnvelope(change.event, session, traceparent)] : [];
  const rotated = change.rotatedTokenHash === undefined ? [] : [change];
  const { rows } = await pool.query<{ saved: number }>({
    name: 'warden-session-save-if-unchanged', // prepared once per connection
    text: SAVE_IF_UNCHANGED_SQL,
    values: [
      session.id,
      session.tokenHash,
      session.status,
      session.lastSeenTime,
      session.idleExpireTime,
      session.endTime,
      session.endReason,
      version,
      rotated.map((c) => c.rotatedTokenHash!),
      rotated.map((c) => c.session.id),
      rotated.map((c) => c.session.lastSeenTime),
      ...outboxColumns(events),
      ...auditColumns(auditEntriesOf(events)),
    ],
  });
  return rows[0]!.saved === 1;
}
