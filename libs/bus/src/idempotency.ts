import { createHash } from 'node:crypto';
import { AppError, alreadyExists } from '@warden/errors';
import type { CallContext } from './context.js';
import { IdempotencyKeyring } from './idempotency-keys.js';
import type { IdempotencySpec } from './use-case.js';

/**
 * Idempotency keys (request_id). The store never sees a raw key, a raw fingerprint or a plain
 * response: rows are addressed by sha256(caller, operation, principal, key); the fingerprint and the
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
  /**
   * Moves a still-pending record's createTime to `now`: its claimant is alive, so no retry takes it
   * over. Without it a pending record is taken over `pendingTimeoutMs` after its claim.
   */
  renew?(keyHash: string, now: Date): Promise<void>;
}

/**
 * A completed request's answer, sealed as {@link IdempotencyStore.complete} stores it, for a use
 * case that writes it itself in the transaction committing its effect (one statement fewer, and
 * no window between the commit and the stored answer): `response` and `ownerId` go into the
 * record at `keyHash`, then `committed()` once that transaction has committed.
 */
export interface SealedAnswer {
  keyHash: string;
  response: Uint8Array;
  ownerId: string | undefined;
  /** The answer is stored: idempotency does not store it again. Call it after the commit only. */
  committed(): void;
}

/** What `execute` is handed: seals the answer it is about to commit (see {@link SealedAnswer}). */
export interface AnswerSlot<O> {
  seal(output: O): SealedAnswer;
}

export interface IdempotencyOptions {
  ttlMs?: number;
  /**
   * A pending record not renewed for this long was left by a crashed request and may be taken
   * over; a running request renews its record every quarter of it.
   */
  pendingTimeoutMs?: number;
  now?: () => Date;
  /** Keys of the records; without it a random secret of this instance (tests, one-process dev). */
  keyring?: IdempotencyKeyring;
}

const DAY_MS = 24 * 3_600_000;
/**
 * How long a retry waits (REQUEST_IN_PROGRESS) for a request whose process died mid-way (a
 * SIGKILLed replica, a lost node): short, since a live request renews its record.
 */
export const DEFAULT_PENDING_TIMEOUT_MS = 10_000;

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
    this.pendingTimeoutMs = options.pendingTimeoutMs ?? DEFAULT_PENDING_TIMEOUT_MS;
    this.now = options.now ?? (() => new Date());
    this.keyring = options.keyring ?? IdempotencyKeyring.random();
  }

  /**
   * Runs `execute` once per (calling service, operation, principal, request_id). `principal`
   * overrides the spec's, for a handler that learns it by verifying a credential first.
   * `execute` may store its answer with its own write (`answer.seal`); otherwise it is stored
   * after `execute` returns. Without a request_id there is no record and `answer` seals nothing.
   */
  run<I, O>(
    operation: string,
    spec: IdempotencySpec<I, O>,
    input: I,
    ctx: CallContext,
    execute: (answer?: AnswerSlot<O>) => Promise<O>,
    options: { principal?: string } = {},
  ): Promise<O> {
    const key = spec.key(input);
    if (!key) return execute();
    const principal = options.principal ?? spec.principal?.(input, ctx) ?? principalOf(ctx);
    return this.attempt(
      { spec, input, ctx, execute, key },
      recordAddress(ctx.service.name, operation, principal, key),
      1,
      false,
    );
  }

  private async attempt<I, O>(
    request: Request<I, O>,
    keyHash: string,
    attempt: number,
    /** A dead claimant's pending record was taken over: its effect may exist already. */
    takenOver: boolean,
  ): Promise<O> {
    const { spec, input, ctx, execute, key } = request;
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
      const pending = existing.response === null;
      // A credential is proven at full cost before a stored record answers, match or mismatch.
      if (writer && !pending && spec.prove && !(await spec.prove(input, ctx))) throw keyReused();
      if (writer && !writer.matches(existing.fingerprint, keyHash, material)) throw keyReused();
      const response =
        writer && existing.response ? writer.open(key, keyHash, existing.response) : undefined;
      if (response) return spec.decode(response);
      if (pending && now.getTime() - existing.createTime.getTime() < this.pendingTimeoutMs) {
        throw inProgress();
      }
      // Left by a crashed request, or unreadable (old scheme, a secret no longer held): as absent.
      if (attempt >= 3) throw inProgress();
      await this.store.release(keyHash);
      return this.attempt(request, keyHash, attempt + 1, takenOver || pending);
    }
    let output: O;
    // The output whose answer `execute` stored in its own commit, if it did.
    let storedWith: { output: O } | undefined;
    const answer: AnswerSlot<O> = {
      seal: (candidate) => ({
        keyHash,
        response: keys.seal(key, keyHash, spec.encode(candidate)),
        ownerId: spec.owner?.(input, candidate),
        committed: () => {
          storedWith = { output: candidate };
        },
      }),
    };
    // Renewed while it runs, so only a record whose claimant died waits out pendingTimeoutMs.
    const renew = this.store.renew?.bind(this.store);
    const heartbeat = renew
      ? setInterval(
          () => void renew(keyHash, this.now()).catch(() => undefined),
          this.pendingTimeoutMs / 4,
        )
      : undefined;
    try {
      try {
        const recovered = takenOver ? await spec.recover?.(input, ctx) : undefined;
        output = recovered ?? (await execute(answer));
      } catch (error) {
        await this.store.release(keyHash);
        throw error;
      }
      if (storedWith?.output === output) return output;
      // The effect has committed: its answer is worth waiting for through a short database
      // outage, else a retry after the takeover would do it a second time.
      const sealed = keys.seal(key, keyHash, spec.encode(output));
      const owner = spec.owner?.(input, output);
      await withRetries(
        () => this.store.complete(keyHash, sealed, owner),
        COMPLETE_RETRY_DELAYS_MS,
      );
    } finally {
      clearInterval(heartbeat);
    }
    return output;
  }
}

/** Waits between attempts to store a committed request's answer (about 6 s in all). */
const COMPLETE_RETRY_DELAYS_MS = [200, 400, 800, 1_600, 3_200];

async function withRetries(attempt: () => Promise<void>, delaysMs: readonly number[]) {
  for (const delayMs of delaysMs) {
    try {
      return await attempt();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  return attempt();
}

interface Request<I, O> {
  spec: IdempotencySpec<I, O>;
  input: I;
  ctx: CallContext;
  execute: (answer?: AnswerSlot<O>) => Promise<O>;
  key: string;
}

/** The default principal of a request id: the call's user, else the calling service itself. */
export const principalOf = (ctx: CallContext): string =>
  ctx.user ? `user:${ctx.user.userId}` : 'service';

/**
 * A record's address: sha256 over (calling service, operation, principal, request id), encoded
 * unambiguously, so two principals never share a record whatever their request ids hold.
 */
export const recordAddress = (
  service: string,
  operation: string,
  principal: string,
  requestId: string,
): string =>
  createHash('sha256')
    .update(JSON.stringify(['v2', service, operation, principal, requestId]))
    .digest('hex');

const keyReused = () =>
  alreadyExists('IDEMPOTENCY_KEY_REUSED', 'request_id was already used for a different request');

const inProgress = () =>
  new AppError(
    'ABORTED',
    'REQUEST_IN_PROGRESS',
    'a request with this request_id is still running; retry',
  );
