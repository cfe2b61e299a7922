import type { ClaimResult, IdempotencyRecord, IdempotencyStore } from './idempotency.js';

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();

  async claim(
    record: { keyHash: string; fingerprint: string; now: Date },
    ttlMs: number,
  ): Promise<ClaimResult> {
    const existing = this.records.get(record.keyHash);
    if (existing && record.now.getTime() - existing.createTime.getTime() < ttlMs) {
      return { claimed: false, existing };
    }
    this.records.set(record.keyHash, {
      keyHash: record.keyHash,
      fingerprint: record.fingerprint,
      response: null,
      createTime: record.now,
    });
    return { claimed: true };
  }

  async complete(keyHash: string, response: Uint8Array): Promise<void> {
    const existing = this.records.get(keyHash);
    if (existing) existing.response = response;
  }

  async release(keyHash: string): Promise<void> {
    this.records.delete(keyHash);
  }
}
