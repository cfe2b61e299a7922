import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { AppError, alreadyExists } from '@warden/errors';
import type { CallContext } from './context.js';
import type { IdempotencySpec } from './use-case.js';

/**
 * Idempotency keys (request_id). The store never sees a raw key, a raw fingerprint or a plain
 * response: rows are addressed by sha256(caller, operation, key), the fingerprint is an HMAC keyed
 * by the raw key, and the response is AES-GCM encrypted with a key derived from the raw key. So a
 * stored StartSession response cannot yield a usable token to someone who reads the database.
 */
export interface IdempotencyRecord {
  keyHash: string;
  fingerprint: string;
  /** null while the first request is still running. */
  response: Uint8Array | null;
  createTime: Date;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

export interface IdempotencyStore {
  /** Inserts a pending record unless a live one (younger than ttl) exists; expired ones are replaced. */
  claim(
    record: { keyHash: string; fingerprint: string; now: Date },
    ttlMs: number,
  ): Promise<ClaimResult>;
  /** `ownerId`: the user the response is about, so erasing the user can delete the record. */
  complete(keyHash: string, response: Uint8Array, ownerId?: string): Promise<void>;
  release(keyHash: string): Promise<void>;
}

export interface IdempotencyOptions {
  ttlMs?: number;
  /** A pending record older than this was left by a crashed request and may be taken over. */
  pendingTimeoutMs?: number;
  now?: () => Date;
}

const DAY_MS = 24 * 3_600_000;

export class Idempotency {
  private readonly ttlMs: number;
  private readonly pendingTimeoutMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: IdempotencyStore,
    options: IdempotencyOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DAY_MS;
    this.pendingTimeoutMs = options.pendingTimeoutMs ?? 30_000;
    this.now = options.now ?? (() => new Date());
  }

  async run<I, O>(
    operation: string,
    spec: IdempotencySpec<I, O>,
    input: I,
    ctx: CallContext,
    execute: () => Promise<O>,
  ): Promise<O> {
    const key = spec.key(input);
    if (!key) return execute();
    const keyHash = createHash('sha256')
      .update(`${ctx.service.name}\n${operation}\n${key}`)
      .digest('hex');
    const fingerprint = createHmac('sha256', key).update(spec.fingerprint(input)).digest('hex');
    const now = this.now();
    const claim = await this.store.claim({ keyHash, fingerprint, now }, this.ttlMs);
    if (!claim.claimed) {
      const existing = claim.existing;
      if (existing.fingerprint !== fingerprint) {
        throw alreadyExists(
          'IDEMPOTENCY_KEY_REUSED',
          'request_id was already used for a different request',
        );
      }
      if (existing.response) return spec.decode(open(key, keyHash, existing.response));
      if (now.getTime() - existing.createTime.getTime() < this.pendingTimeoutMs) {
        throw new AppError(
          'ABORTED',
          'REQUEST_IN_PROGRESS',
          'a request with this request_id is still running; retry',
        );
      }
      await this.store.release(keyHash);
      return this.run(operation, spec, input, ctx, execute);
    }
    let output: O;
    try {
      output = await execute();
    } catch (error) {
      await this.store.release(keyHash);
      throw error;
    }
    await this.store.complete(
      keyHash,
      seal(key, keyHash, spec.encode(output)),
      spec.owner?.(input, output),
    );
    return output;
  }
}

function keyFor(rawKey: string, keyHash: string): Buffer {
  return Buffer.from(hkdfSync('sha256', rawKey, keyHash, 'warden-idempotency-response', 32));
}

function seal(rawKey: string, keyHash: string, plain: Uint8Array): Uint8Array {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(rawKey, keyHash), iv);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(rawKey: string, keyHash: string, sealed: Uint8Array): Uint8Array {
  const buffer = Buffer.from(sealed);
  const decipher = createDecipheriv('aes-256-gcm', keyFor(rawKey, keyHash), buffer.subarray(0, 12));
  decipher.setAuthTag(buffer.subarray(12, 28));
  return Buffer.concat([decipher.update(buffer.subarray(28)), decipher.final()]);
}
