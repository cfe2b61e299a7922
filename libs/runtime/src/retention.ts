import { PgIdempotencyStore } from '@warden/db';
import { pruneAuditEvents, prunePublishedOutbox, pruneProcessedEvents } from '@warden/events';
import type pg from 'pg';

export interface Retention {
  /** Published outbox rows: above the stream's duplicate window. */
  outboxMs: number;
  /** Processed-event (inbox) records: above the stream's max age. */
  processedEventsMs: number;
  /** Idempotency records: above the longest time a client may retry. */
  idempotencyMs: number;
  /** Audit entries (config `audit.retention`). */
  auditMs: number;
}

/** Deletes what a worker's service keeps only for a while; returns how many rows of each. */
export async function pruneRetained(
  pool: pg.Pool,
  keep: Retention,
  now = Date.now(),
): Promise<{ outbox: number; processedEvents: number; idempotency: number; audit: number }> {
  const before = (ms: number) => new Date(now - ms);
  return {
    outbox: await prunePublishedOutbox(pool, before(keep.outboxMs)),
    processedEvents: await pruneProcessedEvents(pool, before(keep.processedEventsMs)),
    idempotency: await new PgIdempotencyStore(pool).prune(before(keep.idempotencyMs)),
    audit: await pruneAuditEvents(pool, before(keep.auditMs)),
  };
}
