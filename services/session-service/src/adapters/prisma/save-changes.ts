import { auditColumns, auditEntriesOf, outboxColumns, type EventEnvelope } from '@warden/events';
import type { SealedAnswer } from '@warden/bus';
import { queryThenCommit } from '@warden/db';
import type pg from 'pg';
import type { SessionChange } from '../../domain/session-events.js';
import type { Session } from '../../domain/session.js';
import { toEnvelope } from '../../mapping.js';
import { sessionColumns } from './session-rows.js';
import { SAVE_IF_UNCHANGED_SQL, saveChangesSql, type SavePart } from './session-sql.js';

/**
 * Writes changes, their outbox rows and their audit entries with the caller's transaction (a pg
 * client in one), in one statement; with `startRequest` (a request's idempotency record address),
 * the session the changes start is linked to it in the same statement, and with `answer` the
 * request's sealed answer goes into its idempotency record there too. True when it wrote `answer`
 * (the caller reports it committed after COMMIT). With `commit`, the statement is the transaction's
 * last and goes with its COMMIT in one round trip ({@link queryThenCommit}).
 */
export async function saveChanges(
  client: pg.ClientBase,
  changes: readonly SessionChange[],
  options: {
    traceparent?: string | undefined;
    startRequest?: string | undefined;
    answer?: SealedAnswer | undefined;
    commit?: boolean;
  } = {},
): Promise<boolean> {
  if (changes.length === 0) return false;
  const { traceparent, startRequest, answer } = options;
  const created: Session[] = [];
  const updated: Session[] = [];
  const rotated: SessionChange[] = [];
  const events: EventEnvelope[] = [];
  for (const change of changes) {
    (change.event === 'started' ? created : updated).push(change.session);
    if (change.rotatedTokenHash !== undefined) rotated.push(change);
    if (change.event !== undefined)
      events.push(toEnvelope(change.event, change.session, traceparent));
  }
  const started = startRequest ? created.slice(0, 1) : [];
  const audit = auditEntriesOf(events);
  const parts: SavePart[] = [];
  const values: unknown[] = [];
  const add = (part: SavePart, rows: number, columns: () => unknown[]) => {
    if (rows === 0) return;
    parts.push(part);
    values.push(...columns());
  };
  add('created', created.length, () => sessionColumns(created));
  add('changed', updated.length, () => [
    updated.map((s) => s.id),
    updated.map((s) => s.tokenHash),
    updated.map((s) => s.status),
    updated.map((s) => s.lastSeenTime),
    updated.map((s) => s.idleExpireTime),
    updated.map((s) => s.endTime),
    updated.map((s) => s.endReason),
  ]);
  add('rotated', rotated.length, () => [
    rotated.map((c) => c.rotatedTokenHash!),
    rotated.map((c) => c.session.id),
    rotated.map((c) => c.session.lastSeenTime),
  ]);
  add('outboxed', events.length, () => outboxColumns(events));
  add('audit', audit.length, () => auditColumns(audit));
  add('linked', started.length, () => [started.map(() => startRequest), started.map((s) => s.id)]);
  add('answered', answer ? 1 : 0, () => [
    answer!.keyHash,
    Buffer.from(answer!.response),
    answer!.ownerId ?? null,
  ]);
  if (parts.length === 0) return false;
  const statement = { ...savePrepared(parts), values };
  if (options.commit) await queryThenCommit(client, statement);
  else await client.query(statement);
  return answer !== undefined;
}

/** The statement of each shape of save, named so that pg prepares it once per connection. */
const saveStatements = new Map<string, { name: string; text: string }>();

function savePrepared(parts: readonly SavePart[]): { name: string; text: string } {
  const key = parts.join(',');
  let statement = saveStatements.get(key);
  if (!statement) {
    statement = { name: `warden-session-save-${parts.join('-')}`, text: saveChangesSql(parts) };
    saveStatements.set(key, statement);
  }
  return statement;
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
