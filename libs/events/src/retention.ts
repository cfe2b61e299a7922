import type { Pool } from 'pg';

const CHUNK = 5000;

/**
 * Deletes outbox rows published before `before`, in chunks so no lock is held long.
 * Keep them at least as long as the stream's duplicate window.
 */
export function prunePublishedOutbox(pool: Pool, before: Date): Promise<number> {
  return deleteInChunks(
    pool,
    (chunk) => `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox WHERE published_time < $1 LIMIT ${chunk})`,
    before,
  );
}

/**
 * Deletes processed-event records older than `before`. Keep them longer than the stream's
 * max age: an event can only be redelivered while the stream still holds it.
 */
export function pruneProcessedEvents(pool: Pool, before: Date): Promise<number> {
  return deleteInChunks(
    pool,
    (chunk) => `DELETE FROM processed_events WHERE (consumer, event_id) IN (
       SELECT consumer, event_id FROM processed_events WHERE processed_time < $1 LIMIT ${chunk})`,
    before,
  );
}

/** Runs `sql(chunk)` (deleting at most `chunk` rows older than $1) until a run deletes fewer. */
export async function deleteInChunks(
  pool: Pool,
  sql: (chunk: number) => string,
  before: Date,
): Promise<number> {
  const text = sql(CHUNK);
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(text, [before]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < CHUNK) return total;
  }
}
