import { prunePublishedOutbox } from '@warden/events';
import type pg from 'pg';

export interface SweeperOptions {
  idempotencyTtlMs: number;
  lockoutWindowMs: number;
  /** Published outbox rows older than this go; keep it above the stream's duplicate window. */
  outboxRetentionMs: number;
}

export interface SweepResult {
  idempotencyKeys: number;
  loginFailures: number;
  outboxRows: number;
  /** One-time codes past their expiry (they could never work again). */
  expiredCodes: number;
}

/**
 * Deletes what has outlived its use. Plain deletes by age: replicas may sweep side by side. On pg:
 * through Prisma, the worker's first sweep loaded its query compiler (~24 MB of RSS) for three
 * DELETEs.
 */
export class Sweeper {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: SweeperOptions,
  ) {}

  async sweepOnce(now = new Date()): Promise<SweepResult> {
    const before = (ms: number) => new Date(now.getTime() - ms);
    const idempotencyKeys = await this.deleteBefore(
      'DELETE FROM idempotency_keys WHERE create_time < $1',
      before(this.options.idempotencyTtlMs),
    );
    // A lock ends with its window, so a record whose window has closed holds nothing.
    const loginFailures = await this.deleteBefore(
      'DELETE FROM login_failures WHERE window_start_time < $1',
      before(this.options.lockoutWindowMs),
    );
    const expiredCodes = await this.deleteBefore(
      'DELETE FROM user_codes WHERE expire_time < $1',
      now,
    );
    const outboxRows = await prunePublishedOutbox(
      this.pool,
      before(this.options.outboxRetentionMs),
    );
    return { idempotencyKeys, loginFailures, outboxRows, expiredCodes };
  }

  private async deleteBefore(sql: string, time: Date): Promise<number> {
    return (await this.pool.query(sql, [time])).rowCount ?? 0;
  }
}
