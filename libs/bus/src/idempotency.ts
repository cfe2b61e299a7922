import { createHash } from 'node:crypto';
import { AppError, alreadyExists } from '@warden/errors';
import type { CallContext } from './context.js';
import { IdempotencyKeyring } from './idempotency-keys.js';
import type { IdempotencySpec } from './use-case.js';

/**
 * Idempotency keys (request_id). The store never sees a raw key, a raw fingerprint or a plain
 * response: rows are addressed by sha256(caller, operation, key); the fingerprint and the
 * encrypted response are keyed by the server secret (see IdempotencyKeyring), so a database dump,
 * even with request ids, yields neither a token nor a way to test a password.
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
  /** Keys of the records; without it a random secret of this instance (tests, one-process dev). */
  keyring?: IdempotencyKeyring;
}

const DAY_MS = 24 * 3_600_000;

export class Idempotency {
  private readonly ttlMs: number;
  private readonly pendingTimeoutMs: number;
  private readonly now: () => Date;
  private readonly keyring: IdempotencyKeyring;

  constructor(
    private readonly store: IdempotencyStore,
    options: IdempotencyOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DAY_MS;
    this.pendingTimeoutMs = options.pendingTimeoutMs ?? 30_000;
    this.now = options.now ?? (() => new Date());
    this.keyring = options.keyring ?? IdempotencyKeyring.random();
  }

  async run<I, O>(
    operation: string,
    spec: IdempotencySpec<I, O>,
    input: I,
    ctx: CallContext,
    execute: () => Promise<O>,
    attempt = 1,
  ): Promise<O> {
    const key = spec.key(input);
    if (!key) return execute();
    const keyHash = createHash('sha256')
      .update(`${ctx.service.name}\n${operation}\n${key}`)
      .digest('hex');
    const material = spec.fingerprint(input);
    const keys = this.keyring.current;
    const now = this.now();
    const claim = await this.store.claim(
      { keyHash, fingerprint: keys.fingerprint(keyHash, material), now },
      this.ttlMs,
    );
    if (!claim.claimed) {
      const existing = claim.existing;
      const writer = this.keyring.writerOf(existing.fingerprint);
      if (writer && !writer.matches(existing.fingerprint, keyHash, material)) {
        throw alreadyExists(
          'IDEMPOTENCY_KEY_REUSED',
          'request_id was already used for a different request',
        );
      }
      const response =
        writer && existing.response ? writer.open(key, keyHash, existing.response) : undefined;
      if (response) return spec.decode(response);
      const pending = existing.response === null;
      if (pending && now.getTime() - existing.createTime.getTime() < this.pendingTimeoutMs) {
        throw inProgress();
      }
      // Left by a crashed request, or unreadable (old scheme, a secret no longer held): as absent.
      if (attempt >= 3) throw inProgress();
      await this.store.release(keyHash);
      return this.run(operation, spec, input, ctx, execute, attempt + 1);
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
      keys.seal(key, keyHash, spec.encode(output)),
      spec.owner?.(input, output),
    );
    return output;
  }
}

const inProgress = () =>
  new AppError(
    'ABORTED',
    'REQUEST_IN_PROGRESS',
    'a request with this request_id is still running; retry',
  );
