import type { HashingLimiter, PasswordHasher } from '../../application/ports.js';
import { passwordChecksBusy } from '../../errors.js';

export interface HashingLimits {
  /** Checks running at once; 0: twice the libuv thread pool, so argon2 threads never wait on I/O. */
  maxConcurrent: number;
  /** Checks waiting for a turn; past it RESOURCE_EXHAUSTED. */
  maxQueue: number;
  /** The delay suggested to a refused caller (google.rpc.RetryInfo). */
  retryAfterMs?: number;
  /** Hears every refusal (a metric). */
  onRefused?: () => void;
}

/** What argon2 runs on: libuv's pool (UV_THREADPOOL_SIZE, default 4). */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

/** A FIFO semaphore with a bounded queue: a flood of sign-ins queues briefly, then is refused. */
export class QueueingHashingLimiter implements HashingLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly maxConcurrent: number;

  constructor(private readonly limits: HashingLimits) {
    this.maxConcurrent = limits.maxConcurrent > 0 ? limits.maxConcurrent : 2 * threadPoolSize();
    if (!Number.isInteger(this.maxConcurrent) || !Number.isInteger(limits.maxQueue))
      throw new Error('hashing limits must be whole numbers');
    if (limits.maxQueue < 0) throw new Error('hashing max_queue must not be negative');
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get capacity(): number {
    return this.maxConcurrent;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.maxConcurrent) this.active++;
    else if (this.waiting.length < this.limits.maxQueue)
      // The finishing check hands its turn over without giving it back, so no one jumps the queue.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else {
      this.limits.onRefused?.();
      throw passwordChecksBusy(this.limits.retryAfterMs ?? 1_000);
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** `hash` through the limiter; `verify` is left to the credential guard, which admits whole checks. */
export const limitedHashing = (
  hasher: PasswordHasher,
  limiter: HashingLimiter,
): PasswordHasher => ({
  hash: (password) => limiter.run(() => hasher.hash(password)),
  verify: (password, hash) => hasher.verify(password, hash),
  needsRehash: (hash) => hasher.needsRehash(hash),
});
