import { AsyncLocalStorage } from 'node:async_hooks';
import { invalidArgument, type FieldViolation } from '@warden/errors';
import type { CallContext } from './context.js';
import { readPage, type Page, type PageRequest } from './paging.js';
import { permissionOn, type UseCase } from './use-case.js';

/**
 * The audit side of a call: who made the changes a use case writes, and in which request. The bus
 * opens this scope around every use case; repositories read it where they write the outbox
 * (@warden/events' `envelopeFor({ context })` and `insertOutbox`), the way a log line reads its
 * request id, so no command has to pass it on and none can forget it. Outside any use case (a
 * sweeper, a bootstrap step) the actor is SYSTEM; a consumer opens {@link consumerAuditScope}.
 */

/** Who caused a change (warden.audit.v1.AuditActor). */
export interface AuditActor {
  type: 'USER' | 'SERVICE' | 'SYSTEM';
  /** The user id (USER), the service name (SERVICE), empty (SYSTEM). */
  id: string;
  /** The service the call came through (a user's token forwarded by it; a consumer's event source). */
  viaService: string;
}

export interface AuditScope {
  actor: AuditActor;
  /** The caller's request_id (idempotency key), '' when it sent none. */
  requestId: string;
  traceparent?: string;
}

export const SYSTEM_AUDIT_SCOPE: AuditScope = {
  actor: { type: 'SYSTEM', id: '', viaService: '' },
  requestId: '',
};

const scopes = new AsyncLocalStorage<AuditScope>();

/** The user when the call carried a user's token (through the calling service), else the service. */
export function auditScopeOf(ctx: CallContext, requestId = ''): AuditScope {
  const actor: AuditActor = ctx.user
    ? { type: 'USER', id: ctx.user.userId, viaService: ctx.service.name }
    : { type: 'SERVICE', id: ctx.service.name, viaService: '' };
  return { actor, requestId, ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}) };
}

/**
 * A consumer applying another context's event: warden itself (SYSTEM) through the service that
 * published it, in the request and trace the event came from.
 */
export function consumerAuditScope(event: {
  source: string;
  requestId?: string | undefined;
  traceparent?: string | undefined;
}): AuditScope {
  return {
    actor: { type: 'SYSTEM', id: '', viaService: event.source },
    requestId: event.requestId ?? '',
    ...(event.traceparent ? { traceparent: event.traceparent } : {}),
  };
}

export function inAuditScope<T>(scope: AuditScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The scope of the running use case or consumer; SYSTEM outside any. */
export function currentAuditScope(): AuditScope {
  return scopes.getStore() ?? SYSTEM_AUDIT_SCOPE;
}

/** One audit entry as ListAuditEvents answers it. */
export interface AuditRecord {
  id: string;
  time: Date;
  actor: AuditActor;
  action: string;
  target: { type: string; id: string };
  requestId: string;
  traceId: string;
  reason: string;
  eventId: string;
  details: Record<string, string>;
}

export interface AuditQuery {
  actorId?: string;
  targetId?: string;
  action?: string;
  startTime?: Date;
  endTime?: Date;
  after?: { time: Date; id: string };
  limit: number;
}

/** A service's audit trail: newest first, filters combined with AND. */
export interface AuditLog {
  list(query: AuditQuery): Promise<AuditRecord[]>;
}

export interface AuditFilter {
  actorId: string;
  targetId: string;
  action: string;
  startTime?: Date | undefined;
  endTime?: Date | undefined;
}

export interface ListAuditEventsInput extends PageRequest {
  filter?: AuditFilter | undefined;
}

export type AuditPage = Page<'auditEvents', AuditRecord>;

export const AUDIT_READ = 'audit.read';
const MAX_FILTER_LENGTH = 256;
/** Control characters (NUL makes Postgres throw) never come from our ids, names or actions. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * ListAuditEvents, the same in every service: `audit.read` on {type `audit`} (admins), filters
 * checked (end_time before start_time, overlong or control characters refused with field
 * violations), keyset pages on (time, id) newest first, tokens bound to the filter.
 */
export function listAuditEvents(log: AuditLog): UseCase<ListAuditEventsInput, AuditPage> {
  return {
    name: 'ListAuditEvents',
    access: permissionOn(AUDIT_READ, () => ({ type: 'audit' })),
    readOnly: true,
    async execute(input) {
      const filter = checkedFilter(input.filter);
      const { items, nextPageToken } = await readPage(input, {
        scope: JSON.stringify([
          filter.actorId,
          filter.targetId,
          filter.action,
          filter.startTime?.getTime() ?? null,
          filter.endTime?.getTime() ?? null,
        ]),
        key: ['time', 'uuid'] as const,
        keyOf: (entry: AuditRecord) => [entry.time, entry.id],
        read: (after, count) =>
          log.list({
            ...(filter.actorId ? { actorId: filter.actorId } : {}),
            ...(filter.targetId ? { targetId: filter.targetId } : {}),
            ...(filter.action ? { action: filter.action } : {}),
            ...(filter.startTime ? { startTime: filter.startTime } : {}),
            ...(filter.endTime ? { endTime: filter.endTime } : {}),
            ...(after ? { after: { time: after[0], id: after[1] } } : {}),
            limit: count,
          }),
      });
      return { auditEvents: items, nextPageToken };
    },
  };
}

function checkedFilter(filter: AuditFilter | undefined): AuditFilter {
  const f = filter ?? { actorId: '', targetId: '', action: '' };
  const violations: FieldViolation[] = [];
  for (const [field, value] of [
    ['filter.actor_id', f.actorId],
    ['filter.target_id', f.targetId],
    ['filter.action', f.action],
  ] as const) {
    if (value.length > MAX_FILTER_LENGTH)
      violations.push({ field, description: `at most ${MAX_FILTER_LENGTH} characters` });
    else if (CONTROL.test(value))
      violations.push({ field, description: 'must not contain control characters' });
  }
  for (const [field, time] of [
    ['filter.start_time', f.startTime],
    ['filter.end_time', f.endTime],
  ] as const) {
    if (time !== undefined && Number.isNaN(time.getTime()))
      violations.push({ field, description: 'is not a valid time' });
  }
  if (f.startTime && f.endTime && f.endTime.getTime() < f.startTime.getTime())
    violations.push({ field: 'filter.end_time', description: 'must not be before start_time' });
  if (violations.length > 0) throw invalidArgument(violations);
  return f;
}

/** An in-memory audit trail for unit and component tests. */
export class MemoryAuditLog implements AuditLog {
  readonly entries: AuditRecord[] = [];

  record(...entries: AuditRecord[]): void {
    this.entries.push(...entries);
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const newestFirst = (a: AuditRecord, b: AuditRecord) =>
      b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
    const before = (e: AuditRecord, p: { time: Date; id: string }) =>
      e.time.getTime() < p.time.getTime() || (e.time.getTime() === p.time.getTime() && e.id < p.id);
    return this.entries
      .filter(
        (e) =>
          (!query.actorId || e.actor.id === query.actorId) &&
          (!query.targetId || e.target.id === query.targetId) &&
          (!query.action || e.action === query.action) &&
          (!query.startTime || e.time >= query.startTime) &&
          (!query.endTime || e.time < query.endTime) &&
          (!query.after || before(e, query.after)),
      )
      .sort(newestFirst)
      .slice(0, query.limit);
  }
}
