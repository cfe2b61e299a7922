import type { ClaimResult, IdempotencyStore } from '@warden/bus';
import type { PrismaClient } from './generated/client.js';

/** request_id records (hashes and sealed responses only) in `idempotency_keys`. */
export class PrismaIdempotencyStore implements IdempotencyStore {
  constructor(private readonly prisma: PrismaClient) {}

  async claim(
    record: { keyHash: string; fingerprint: string; now: Date },
    ttlMs: number,
  ): Promise<ClaimResult> {
    const expiredBefore = new Date(record.now.getTime() - ttlMs);
    for (;;) {
      // Inserts a pending record, or takes over one that outlived the TTL; a live one is left alone.
      const claimed = await this.prisma.$executeRaw`
        INSERT INTO idempotency_keys (key_hash, fingerprint, response, create_time)
        VALUES (${record.keyHash}, ${record.fingerprint}, NULL, ${record.now})
        ON CONFLICT (key_hash) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, response = NULL, create_time = EXCLUDED.create_time
          WHERE idempotency_keys.create_time <= ${expiredBefore}`;
      if (claimed === 1) return { claimed: true };
      const existing = await this.prisma.idempotencyKey.findUnique({
        where: { keyHash: record.keyHash },
      });
      // Released between our insert and read: try again.
      if (!existing) continue;
      return { claimed: false, existing: { ...existing, response: existing.response ?? null } };
    }
  }

  async complete(keyHash: string, response: Uint8Array): Promise<void> {
    await this.prisma.idempotencyKey.updateMany({
      where: { keyHash },
      data: { response: new Uint8Array(response) },
    });
  }

  async release(keyHash: string): Promise<void> {
    await this.prisma.idempotencyKey.deleteMany({ where: { keyHash } });
  }

  /** Drops records older than `before` (the worker keeps the table to the 24 h window). */
  async prune(before: Date): Promise<number> {
    const { count } = await this.prisma.idempotencyKey.deleteMany({
      where: { createTime: { lt: before } },
    });
    return count;
  }
}
