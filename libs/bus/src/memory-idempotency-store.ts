import type { ClaimResult, IdempotencyRecord, IdempotencyStore } from './idempotency.js';

export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord>();
  /** keyHash -> the user a completed record's response is about. */
  readonly owners = new Map<string, string>();

  async claim(
    record: { keyHash: string; fingerprint: string; now: Date },
    ttlMs: number,
  ): Promise<ClaimResult> {
    const existing = this.records.get(record.keyHash);
    if (existing && record.now.getTime() - existing.createTime.getTime() < ttlMs) {
      return { claimed: false, existing };
    }
    this.owners.delete(record.keyHash);
    this.records.set(record.keyHash, {
      keyHash: record.keyHash,
      fingerprint: record.fingerprint,
      response: null,
      createTime: record.now,
    });
    return { claimed: true };
  }

  async complete(keyHash: string, response: Uint8Array, ownerId?: string): Promise<void> {
    const existing = this.records.get(keyHash);
    if (!existing) return;
    existing.response = response;
    if (ownerId !== undefined) this.owners.set(keyHash, ownerId);
  }

  async renew(keyHash: string, now: Date): Promise<void> {
    const existing = this.records.get(keyHash);
    if (existing && existing.response === null) existing.createTime = now;
  }

  async release(keyHash: string): Promise<void> {
    this.records.delete(keyHash);
    this.owners.delete(keyHash);
  }

  /** Deletes the records whose response is about `ownerId` (erasure); returns how many. */
  async forgetOwner(ownerId: string): Promise<number> {
    const mine = [...this.owners].filter(([, owner]) => owner === ownerId);
    for (const [keyHash] of mine) await this.release(keyHash);
    return mine.length;
  }
}
