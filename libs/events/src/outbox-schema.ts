import { queryThenCommit } from '@warden/db';
import type { ClientBase } from 'pg';
import { AUDIT_INSERT, auditColumns, type AuditEntry } from './audit.js';
import type { EventEnvelope } from './envelope.js';
import { cloudEventHeaders } from './envelope.js';

/** The channel the outbox trigger notifies; the payload is the schema of the outbox table. */
export const OUTBOX_CHANNEL = 'warden_outbox';

/**
 * Tables every service copies into its first migration. Names are unqualified: each service
 * runs with its own schema first on `search_path`.
 */
export const OUTBOX_DDL = `
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  subject text NOT NULL,
  type text NOT NULL,
  payload bytea NOT NULL,
  headers jsonb NOT NULL,
  create_time timestamptz(3) NOT NULL,
  published_time timestamptz(3),
  attempts integer NOT NULL DEFAULT 0
);

CREATE INDEX outbox_published_time_create_time_idx ON outbox (published_time, create_time);

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The schema as payload lets a relay ignore wake-ups from other services sharing the database.
  PERFORM pg_notify('${OUTBOX_CHANNEL}', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE processed_events (
  consumer text NOT NULL,
  event_id text NOT NULL,
  processed_time timestamptz(3) NOT NULL,
  PRIMARY KEY (consumer, event_id)
);

CREATE INDEX processed_events_processed_time_idx ON processed_events (processed_time);
`;

/** A new outbox row, as {@link outboxColumns} binds it. */
export type OutboxRow = {
  id: string;
  subject: string;
  type: string;
  /** Prisma's `Bytes` wants an ArrayBuffer-backed array. */
  payload: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  createTime: Date;
};

export function toOutboxRow(env: EventEnvelope): OutboxRow {
  return {
    id: env.id,
    subject: env.type,
    type: env.type,
    payload: arrayBufferBacked(env.payload),
    headers: cloudEventHeaders(env),
    createTime: env.time,
  };
}

function arrayBufferBacked(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

/** Anything that runs a parameterized query: a pg Client, PoolClient or Pool. */
export type Queryable = {
  query(text: string, values?: unknown[]): Promise<unknown>;
};

/**
 * Writes events to the outbox and their audit entries (plus `audit`, the entries of changes that
 * publish no event) to `audit_events`, in one statement; pass the client of the transaction that
 * changes the state.
 */
export async function insertOutbox(
  client: Queryable,
  envs: readonly EventEnvelope[],
  audit: readonly AuditEntry[] = [],
): Promise<void> {
  const statement = outboxStatement(envs, audit);
  if (statement) await client.query(statement.text, statement.values);
}

/**
 * {@link insertOutbox} as the last statement of a transaction begun by @warden/db's
 * withTransaction: sent with its COMMIT in one round trip ({@link queryThenCommit}). With nothing
 * to write, nothing is sent and withTransaction commits as usual.
 */
export async function insertOutboxThenCommit(
  client: ClientBase,
  envs: readonly EventEnvelope[],
  audit: readonly AuditEntry[] = [],
): Promise<void> {
  const statement = outboxStatement(envs, audit);
  if (statement) await queryThenCommit(client, statement);
}

/** The one statement of {@link insertOutbox}; none when there is nothing to write. */
function outboxStatement(
  envs: readonly EventEnvelope[],
  audit: readonly AuditEntry[],
): { text: string; values: unknown[] } | undefined {
  const entries = [...auditEntriesOf(envs), ...audit];
  if (entries.length === 0) {
    if (envs.length === 0) return undefined;
    return {
      text: `INSERT INTO outbox (id, subject, type, payload, headers, create_time)
       SELECT * FROM ${OUTBOX_UNNEST(1)}`,
      values: outboxColumns(envs),
    };
  }
  if (envs.length === 0) return { text: AUDIT_INSERT(1), values: auditColumns(entries) };
  return {
    text: `WITH audit AS (${AUDIT_INSERT(7)})
     INSERT INTO outbox (id, subject, type, payload, headers, create_time)
     SELECT * FROM ${OUTBOX_UNNEST(1)}`,
    values: [...outboxColumns(envs), ...auditColumns(entries)],
  };
}

/** The audit entries the events carry, in order. */
export const auditEntriesOf = (envs: readonly EventEnvelope[]): AuditEntry[] =>
  envs.flatMap((env) => (env.audit ? [env.audit] : []));

/**
 * `unnest(...)` over the six arrays of {@link outboxColumns} bound from `$first` on, giving rows
 * in the column order of `INSERT INTO outbox (id, subject, type, payload, headers, create_time)`;
 * for a statement that writes the outbox along with other rows.
 */
export const OUTBOX_UNNEST = (first: number): string =>
  `unnest($${first}::uuid[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::bytea[], $${first + 4}::jsonb[], $${first + 5}::timestamptz[])`;

/** The events as six column arrays, the parameters of {@link OUTBOX_UNNEST}. */
export function outboxColumns(envs: readonly EventEnvelope[]): unknown[] {
  const rows = envs.map(toOutboxRow);
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.subject),
    rows.map((r) => r.type),
    rows.map((r) => Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength)),
    rows.map((r) => JSON.stringify(r.headers)),
    rows.map((r) => r.createTime),
  ];
}
