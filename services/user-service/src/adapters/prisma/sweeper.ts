import { prunePublishedOutbox } from '@warden/events';
import type pg from 'pg';
import type { PrismaClient } from './prisma-client.js';

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

/** Deletes what has outlived its use. Plain deletes by age: replicas may sweep side by side. */
export class Sweeper {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: pg.Pool,
    private readonly options: SweeperOptions,
  ) {}

  async sweepOnce(now = new Date()): Promise<SweepResult> {
    const before = (ms: number) => new Date(now.getTime() - ms);
    const idempotencyKeys = await this.prisma.idempotencyKey.deleteMany({
      where: { createTime: { lt: before(this.options.idempotencyTtlMs) } },
    });
    // A lock ends with its window, so a record whose window has closed holds nothing.
    const loginFailures = await this.prisma.loginFailure.deleteMany({
      where: { windowStartTime: { lt: before(this.options.lockoutWindowMs) } },
    });
    const expiredCodes = await this.prisma.userCode.deleteMany({
      where: { expireTime: { lt: now } },
    });
    const outboxRows = await prunePublishedOutbox(
      this.pool,
      before(this.options.outboxRetentionMs),
    );
    return {
      idempotencyKeys: idempotencyKeys.count,
      loginFailures: loginFailures.count,
      outboxRows,
      expiredCodes: expiredCodes.count,
    };
  }
}
