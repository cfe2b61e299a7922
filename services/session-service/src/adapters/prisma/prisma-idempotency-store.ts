import type { ClaimResult, IdempotencyStore } from '@warden/bus';
import type { PrismaClient } from './prisma-client.js';

/** The bus's idempotency records in `idempotency_keys`; a claim is one atomic insert-or-take-over. */
export class PrismaIdempotencyStore implements IdempotencyStore {
  constructor(private readonly prisma: PrismaClient) {}

  async claim(
    record: { keyHash: string; fingerprint: string; now: Date },
    ttlMs: number,
  ): Promise<ClaimResult> {
    const expiredBefore = new Date(record.now.getTime() - ttlMs);
    // A record released between our insert and our read leaves nothing to read: claim again.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const inserted = await this.prisma.$executeRaw`
        INSERT INTO idempotency_keys (key_hash, fingerprint, response, create_time)
        VALUES (${record.keyHash}, ${record.fingerprint}, NULL, ${record.now})
        ON CONFLICT (key_hash) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, response = NULL, create_time = EXCLUDED.create_time
          WHERE idempotency_keys.create_time < ${expiredBefore}`;
      if (inserted === 1) return { claimed: true };
      const existing = await this.prisma.idempotencyKey.findUnique({
        where: { keyHash: record.keyHash },
      });
      if (existing) return { claimed: false, existing };
    }
    throw new Error('idempotency key is being claimed and released concurrently');
  }

  async complete(keyHash: string, response: Uint8Array): Promise<void> {
    await this.prisma.idempotencyKey.updateMany({
      where: { keyHash },
      data: { response: Uint8Array.from(response) },
    });
  }

  async release(keyHash: string): Promise<void> {
    await this.prisma.idempotencyKey.deleteMany({ where: { keyHash } });
  }

  /** Deletes records past their lifetime (the worker calls it). */
  async prune(before: Date): Promise<number> {
    return this.prisma.idempotencyKey
      .deleteMany({ where: { createTime: { lt: before } } })
      .then((r) => r.count);
  }
}
