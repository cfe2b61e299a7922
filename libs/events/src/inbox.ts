import { withTransaction } from '@warden/db';
import type { Pool, PoolClient } from 'pg';

/** How a service runs a transaction and records a processed event id inside it. */
export type InboxStore<Tx> = {
  transaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;
  /** Inserts (consumer, eventId) into processed_events; true when it was not there yet. */
  markProcessed: (tx: Tx, consumer: string, eventId: string) => Promise<boolean>;
};

export type ProcessOnceOptions<Tx> = InboxStore<Tx> & {
  consumer: string;
  eventId: string;
  apply: (tx: Tx) => Promise<void>;
};

/**
 * Applies an event's effect at most once per consumer: the processed-id record and the state
 * change commit together. Returns false when the event had already been applied.
 */
export function processOnce<Tx>(opts: ProcessOnceOptions<Tx>): Promise<boolean> {
  return opts.transaction(async (tx) => {
    // A concurrent duplicate blocks here on the primary key until the first one commits or rolls back.
    if (!(await opts.markProcessed(tx, opts.consumer, opts.eventId))) return false;
    await opts.apply(tx);
    return true;
  });
}

/** The inbox for code on plain pg; tables resolve through the pool's search_path. */
export function pgInbox(pool: Pool): InboxStore<PoolClient> {
  return {
    transaction: (fn) => withTransaction(pool, fn),
    markProcessed: async (tx, consumer, eventId) => {
      const { rowCount } = await tx.query(
        `INSERT INTO processed_events (consumer, event_id, processed_time) VALUES ($1, $2, now())
         ON CONFLICT DO NOTHING RETURNING 1`,
        [consumer, eventId],
      );
      return rowCount === 1;
    },
  };
}
