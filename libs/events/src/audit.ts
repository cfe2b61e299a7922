import { uuidv7 } from './uuid.js';

/**
 * The audit trail's rows: every service keeps an entry per state change in its own `audit_events`
 * table, written by the statement that writes the change's outbox rows (see `insertOutbox`), so
 * no change commits without its entry and an entry never outlives a rolled-back change.
 */

/** Who caused a change (warden.audit.v1.AuditActor). */
export interface AuditActor {
  type: 'USER' | 'SERVICE' | 'SYSTEM';
  /** The user id (USER), the service name (SERVICE), empty (SYSTEM). */
  id: string;
  /** The service the call came through (a user's token forwarded by it; a consumer's event source). */
  viaService: string;
}

/** The request a change belongs to: who, with which idempotency key, in which trace. */
export interface AuditContext {
  actor: AuditActor;
  /** The caller's request_id (idempotency key), '' when it sent none. */
  requestId: string;
  traceparent?: string;
}

/** What a change did, as each service maps its domain events (never secrets, hashes or codes). */
export interface AuditFacts {
  /** `<resource>.<verb>`: `user.registered`, `session.ended`, `role.assigned`. */
  action: string;
  target: { type: string; id: string };
  reason?: string;
  /** Flat key/value details: ids, field names, enum values. */
  details?: Record<string, string>;
}

/** One audit_events row. */
export interface AuditEntry {
  id: string;
  time: Date;
  actor: AuditActor;
  action: string;
  target: { type: string; id: string };
  requestId: string;
  /** 32 hex digits, '' when the change came with no trace. */
  traceId: string;
  reason: string;
  /** The id of the event published for the change; '' for a change that publishes none. */
  eventId: string;
  details: Record<string, string>;
}

export const SYSTEM_ACTOR: AuditActor = { type: 'SYSTEM', id: '', viaService: '' };
export const SYSTEM_CONTEXT: AuditContext = { actor: SYSTEM_ACTOR, requestId: '' };

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);

/** The trace id of a W3C traceparent; '' for none or a malformed one. */
export function traceIdOf(traceparent: string | undefined): string {
  const id = traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent.trim())?.[1];
  return id === undefined || id === ZERO_TRACE ? '' : id;
}

/** Longer caller-given text (a reason, a request id) is cut: an entry's size stays bounded. */
export const MAX_AUDIT_TEXT = 1024;

/** Caller-given text as Postgres text takes it: no NUL (it refuses the row), at most 1024 characters. */
const text = (value: string): string => value.replaceAll('\u0000', '').slice(0, MAX_AUDIT_TEXT);

/** A new entry for `facts` in `context`; the explicit traceparent (the call's) wins over the context's. */
export function auditEntry(
  facts: AuditFacts,
  context: AuditContext = SYSTEM_CONTEXT,
  about: { eventId?: string; traceparent?: string | undefined; time?: Date } = {},
): AuditEntry {
  return {
    id: uuidv7(),
    time: about.time ?? new Date(),
    actor: {
      type: context.actor.type,
      id: text(context.actor.id),
      viaService: text(context.actor.viaService),
    },
    action: text(facts.action),
    target: { type: text(facts.target.type), id: text(facts.target.id) },
    requestId: text(context.requestId),
    traceId: traceIdOf(about.traceparent ?? context.traceparent),
    reason: text(facts.reason ?? ''),
    eventId: about.eventId ?? '',
    details: Object.fromEntries(
      Object.entries(facts.details ?? {}).map(([key, value]) => [text(key), text(value)]),
    ),
  };
}

/** `ce-wardenactor`: `user:<id>`, `service:<name>` or `system`. */
export function actorHeader(actor: AuditActor): string {
  switch (actor.type) {
    case 'USER':
      return `user:${actor.id}`;
    case 'SERVICE':
      return `service:${actor.id}`;
    case 'SYSTEM':
      return 'system';
  }
}

export const AUDIT_COLUMNS =
  'id, time, actor_type, actor_id, via_service, action, target_type, target_id, request_id, trace_id, reason, event_id, details';

/**
 * `INSERT INTO audit_events` of the thirteen arrays of {@link auditColumns} bound from `$first` on,
 * for a data-modifying CTE of the statement that writes the change (`where` limits it, e.g. to
 * when the change's row went in).
 */
export const AUDIT_INSERT = (first: number, where = ''): string => {
  const $ = (i: number) => `$${first + i}`;
  return `INSERT INTO audit_events (${AUDIT_COLUMNS})
  SELECT a.id, a.time, a.actor_type, a.actor_id, a.via_service, a.action, a.target_type,
         a.target_id, a.request_id, a.trace_id, a.reason, a.event_id, a.details
  FROM unnest(${$(0)}::uuid[], ${$(1)}::timestamptz[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[],
              ${$(5)}::text[], ${$(6)}::text[], ${$(7)}::text[], ${$(8)}::text[], ${$(9)}::text[],
              ${$(10)}::text[], ${$(11)}::uuid[], ${$(12)}::jsonb[])
    AS a(id, time, actor_type, actor_id, via_service, action, target_type, target_id, request_id,
         trace_id, reason, event_id, details)${where ? `\n  ${where}` : ''}`;
};

/** The entries as thirteen column arrays, the parameters of {@link AUDIT_INSERT}. */
export function auditColumns(entries: readonly AuditEntry[]): unknown[] {
  return [
    entries.map((e) => e.id),
    entries.map((e) => e.time),
    entries.map((e) => e.actor.type),
    entries.map((e) => e.actor.id),
    entries.map((e) => e.actor.viaService),
    entries.map((e) => e.action),
    entries.map((e) => e.target.type),
    entries.map((e) => e.target.id),
    entries.map((e) => e.requestId),
    entries.map((e) => e.traceId),
    entries.map((e) => e.reason),
    entries.map((e) => e.eventId || null),
    entries.map((e) => JSON.stringify(e.details)),
  ];
}

/**
 * The table every service copies into its audit migration (and describes in its Prisma schema).
 * The (x, time, id) indexes serve each filter newest first, read backwards.
 */
export const AUDIT_DDL = `
CREATE TABLE audit_events (
  id uuid PRIMARY KEY,
  time timestamptz(3) NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  via_service text NOT NULL,
  action text NOT NULL,
  target_type text NOT NULL,
  target_id text NOT NULL,
  request_id text NOT NULL,
  trace_id text NOT NULL,
  reason text NOT NULL,
  event_id uuid,
  details jsonb NOT NULL
);

CREATE INDEX audit_events_time_id_idx ON audit_events (time, id);
CREATE INDEX audit_events_actor_id_time_id_idx ON audit_events (actor_id, time, id);
CREATE INDEX audit_events_target_id_time_id_idx ON audit_events (target_id, time, id);
CREATE INDEX audit_events_action_time_id_idx ON audit_events (action, time, id);
`;
