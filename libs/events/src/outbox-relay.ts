import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { withClient } from '@warden/db';
import type { PublishedMessage } from '@warden/logger';
import type { Pool, QueryResult } from 'pg';
import { backoffDelay, sleep } from './backoff.js';
import { recordToNatsHeaders } from './envelope.js';
import type { Logger } from './logger.js';
import { OutboxListener } from './outbox-listener.js';
import { Wakeup } from './wakeup.js';

export type OutboxRelayOptions = {
  pool: Pool;
  js: JetStreamClient;
  logger: Logger;
  batchSize?: number;
  /** Longest wait between batches when idle and no insert notification arrives. */
  idlePollMs?: number;
  publishTimeoutMs?: number;
  /** Longest wait between failed batches (5 s). */
  maxBackoffMs?: number;
  /** Set false where a dedicated LISTEN connection cannot be spared; the relay then polls. */
  listen?: boolean;
  /** Called per row published or failed (a producer span: `recordProducerSpan`). */
  observe?: (published: PublishedRow) => void;
};

/** One publish attempt of an outbox row, for an `observe` hook (a producer span's input). */
export type PublishedRow = PublishedMessage;

/** Rows waiting to be published, and how long the oldest has waited. */
export type OutboxBacklog = { rows: number; oldestSeconds: number };

/** One indexed read (outbox_published_time_create_time_idx), for a metrics scrape. */
export async function outboxBacklog(pool: Pool): Promise<OutboxBacklog> {
  const { rows } = await pool.query<{ rows: number; oldest_seconds: number | null }>(
    `SELECT count(*)::int AS rows,
            EXTRACT(EPOCH FROM now() - min(create_time))::float8 AS oldest_seconds
     FROM outbox WHERE published_time IS NULL`,
  );
  return { rows: rows[0]?.rows ?? 0, oldestSeconds: Math.max(0, rows[0]?.oldest_seconds ?? 0) };
}

type PendingRow = {
  id: string;
  subject: string;
  payload: Buffer;
  headers: Record<string, string>;
  attempts: number;
};

export type BatchOutcome = { claimed: number; published: number; failed: number };

/**
 * Publishes outbox rows to JetStream, at least once. Rows are claimed with SKIP LOCKED, so
 * relays can run side by side; a row published but not yet marked when a relay dies is published
 * again and JetStream drops the copy by its Nats-Msg-Id within the stream's duplicate window.
 */
export class OutboxRelay {
  /** Rows published and marked since start: read these for metrics. */
  published = 0;
  /** Publish attempts that failed since start. */
  failed = 0;

  private readonly pool: Pool;
  private readonly js: JetStreamClient;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly idlePollMs: number;
  private readonly publishTimeoutMs: number | undefined;
  private readonly maxBackoffMs: number;
  private readonly listener: OutboxListener | undefined;
  private readonly observe: ((published: PublishedRow) => void) | undefined;
  private readonly wakeup = new Wakeup();
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(opts: OutboxRelayOptions) {
    this.pool = opts.pool;
    this.js = opts.js;
    this.logger = opts.logger;
    this.batchSize = opts.batchSize ?? 256;
    this.idlePollMs = opts.idlePollMs ?? 1000;
    this.publishTimeoutMs = opts.publishTimeoutMs;
    // A NATS failover (a stream leader elected anew) answers 'no responders' at once for a few
    // seconds: a longer cap would leave every event that long late after the cluster is back.
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
    this.observe = opts.observe;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    if (opts.listen ?? true) {
      this.listener = new OutboxListener(opts.pool, opts.logger, () => this.wakeup.notify());
    }
  }

  start(): void {
    if (this.loop) throw new Error('OutboxRelay is already running');
    this.stopping = new AbortController();
    this.listener?.start();
    this.loop = this.run(this.stopping.signal);
  }

  /** Lets the in-flight batch finish, then resolves. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping.abort();
    await this.loop;
    await this.listener?.stop();
    this.loop = undefined;
  }

  /** Relays one batch; returns how many rows it published. */
  async relayOnce(): Promise<number> {
    return (await this.relayBatch()).published;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const outcome = await this.relayBatch().catch((err: unknown) => {
        this.logger.error({ err }, 'outbox batch failed');
        return undefined;
      });
      if (outcome === undefined || outcome.failed > 0) {
        failures++;
        await sleep(backoffDelay(failures, 100, this.maxBackoffMs), signal);
      } else {
        failures = 0;
        if (outcome.claimed < this.batchSize) await this.wakeup.wait(this.idlePollMs, signal);
      }
    }
  }

  /**
   * Two round trips per batch: BEGIN with the claim, then the marks with COMMIT, each as one
   * simple-protocol query (no parameters: the batch size is ours, the ids are read from the uuid
   * column). Relaying costs a database round trip per write syscall, and it runs for every event.
   */
  private relayBatch(): Promise<BatchOutcome> {
    return withClient(this.pool, async (client) => {
      const [, , claim] = (await client.query(
        // A mark lost in a crash only means the row is published again, and JetStream drops the
        // copy by its Nats-Msg-Id: not worth waiting for the WAL flush on every batch.
        `BEGIN;
         SET LOCAL synchronous_commit = off;
         SELECT id, subject, payload, headers, attempts FROM outbox
         WHERE published_time IS NULL
         ORDER BY create_time, id
         LIMIT ${this.batchSize}
         FOR UPDATE SKIP LOCKED`,
      )) as unknown as [QueryResult, QueryResult, QueryResult<PendingRow>];
      const rows = claim.rows;
      if (rows.length === 0) {
        await client.query('COMMIT');
        return { claimed: 0, published: 0, failed: 0 };
      }

      const results = await Promise.allSettled(rows.map((row) => this.publish(row)));
      const publishedIds: string[] = [];
      const failures: { row: PendingRow; reason: unknown }[] = [];
      results.forEach((result, i) => {
        const row = rows[i]!;
        if (result.status === 'fulfilled') publishedIds.push(row.id);
        else failures.push({ row, reason: result.reason });
      });

      const statements: string[] = [];
      if (publishedIds.length > 0)
        statements.push(
          `UPDATE outbox SET published_time = now() WHERE id IN (${uuidList(publishedIds)})`,
        );
      if (failures.length > 0)
        statements.push(
          `UPDATE outbox SET attempts = attempts + 1 WHERE id IN (${uuidList(failures.map((f) => f.row.id))})`,
        );
      await client.query([...statements, 'COMMIT'].join(';\n'));
      if (failures.length > 0) this.logFailures(failures);
      this.published += publishedIds.length;
      this.failed += failures.length;
      return { claimed: rows.length, published: publishedIds.length, failed: failures.length };
    });
  }

  private publish(row: PendingRow): Promise<PubAck> {
    return this.observe ? this.publishObserved(row, this.observe) : this.send(row);
  }

  private async publishObserved(
    row: PendingRow,
    observe: (published: PublishedRow) => void,
  ): Promise<PubAck> {
    const startMs = performance.timeOrigin + performance.now();
    const report = (error?: string) => {
      try {
        observe({
          subject: row.subject,
          eventId: row.id,
          ...(row.headers.traceparent ? { traceparent: row.headers.traceparent } : {}),
          startMs,
          endMs: performance.timeOrigin + performance.now(),
          ...(error === undefined ? {} : { error }),
        });
      } catch (hookError) {
        this.logger.warn({ err: hookError, eventId: row.id }, 'relay observe hook failed');
      }
    };
    try {
      const ack = await this.send(row);
      report();
      return ack;
    } catch (error) {
      report(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private send(row: PendingRow): Promise<PubAck> {
    return this.js.publish(row.subject, row.payload, {
      msgID: row.id,
      headers: recordToNatsHeaders(row.headers),
      ...(this.publishTimeoutMs === undefined ? {} : { timeout: this.publishTimeoutMs }),
    });
  }

  private logFailures(failures: { row: PendingRow; reason: unknown }[]): void {
    const first = failures[0]!;
    this.logger.error(
      {
        err: first.reason,
        failed: failures.length,
        eventId: first.row.id,
        subject: first.row.subject,
        attempts: first.row.attempts + 1,
      },
      'outbox events not published; will retry',
    );
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Quoted literals for `IN (...)`; anything but a UUID is refused rather than put in SQL. */
function uuidList(ids: readonly string[]): string {
  return ids
    .map((id) => {
      if (!UUID.test(id)) throw new Error(`outbox id is not a UUID: ${JSON.stringify(id)}`);
      return `'${id}'`;
    })
    .join(', ');
}
