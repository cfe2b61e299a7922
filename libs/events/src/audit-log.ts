import type { Pool } from 'pg';
import type { AuditActor, AuditEntry } from './audit.js';
import { deleteInChunks } from './retention.js';

/** Which entries to read: filters combine with AND; newest first, after the `after` position. */
export interface AuditQuery {
  actorId?: string;
  targetId?: string;
  action?: string;
  /** At or after. */
  startTime?: Date;
  /** Before. */
  endTime?: Date;
  /** The last entry of the previous page (time, id). */
  after?: { time: Date; id: string };
  limit: number;
}

interface AuditRow {
  id: string;
  time: Date;
  actor_type: AuditActor['type'];
  actor_id: string;
  via_service: string;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string;
  trace_id: string;
  reason: string;
  event_id: string | null;
  details: Record<string, string>;
}

/** The audit trail of one service's database (`audit_events`), read for ListAuditEvents. */
export class PgAuditLog {
  constructor(private readonly pool: Pool) {}

  /**
   * One page, newest first. Only the filters given go into the statement, so each is served by
   * its (x, time, id) index read backwards rather than by a plan generic over every filter.
   */
  async list(query: AuditQuery): Promise<AuditEntry[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const bind = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    if (query.actorId) where.push(`actor_id = ${bind(query.actorId)}`);
    if (query.targetId) where.push(`target_id = ${bind(query.targetId)}`);
    if (query.action) where.push(`action = ${bind(query.action)}`);
    if (query.startTime) where.push(`time >= ${bind(query.startTime)}`);
    if (query.endTime) where.push(`time < ${bind(query.endTime)}`);
    if (query.after)
      where.push(`(time, id) < (${bind(query.after.time)}, ${bind(query.after.id)}::uuid)`);
    const { rows } = await this.pool.query<AuditRow>(
      `SELECT id, time, actor_type, actor_id, via_service, action, target_type, target_id,
              request_id, trace_id, reason, event_id, details
       FROM audit_events ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY time DESC, id DESC LIMIT ${bind(query.limit)}`,
      values,
    );
    return rows.map(entryFromRow);
  }
}

const entryFromRow = (row: AuditRow): AuditEntry => ({
  id: row.id,
  time: row.time,
  actor: { type: row.actor_type, id: row.actor_id, viaService: row.via_service },
  action: row.action,
  target: { type: row.target_type, id: row.target_id },
  requestId: row.request_id,
  traceId: row.trace_id,
  reason: row.reason,
  eventId: row.event_id ?? '',
  details: row.details,
});

/** Deletes audit entries older than `before` (config `audit.retention`), in chunks. */
export function pruneAuditEvents(pool: Pool, before: Date): Promise<number> {
  return deleteInChunks(
    pool,
    (chunk) => `DELETE FROM audit_events WHERE id IN (
       SELECT id FROM audit_events WHERE time < $1 LIMIT ${chunk})`,
    before,
  );
}
