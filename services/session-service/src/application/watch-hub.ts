import type { AppError } from '@warden/errors';
import { watchStreamsExhausted, watchTooSlow } from '../errors.js';

/** A session event as streamed to watchers; `userId` selects who gets it. */
export interface Watchable {
  userId: string;
}

/**
 * One watcher's bounded queue. A watcher that falls `capacity` events behind is cut off with
 * RESOURCE_EXHAUSTED rather than buffered without bound.
 */
export class WatchSubscription<T extends Watchable> {
  private readonly queue: T[] = [];
  private waiter: ((event: T | undefined) => void) | undefined;
  private failure: AppError | undefined;
  private closed = false;
  private rejectFailed!: (error: AppError) => void;
  /** Rejects when the subscription is cut off, so a writer stuck on a slow client notices. */
  readonly failed: Promise<never>;

  constructor(
    readonly userId: string | undefined,
    private readonly capacity: number,
    private readonly onClose: (subscription: WatchSubscription<T>) => void,
  ) {
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
  }

  get pending(): number {
    return this.queue.length;
  }

  push(event: T): void {
    if (this.closed) return;
    if (this.userId && event.userId !== this.userId) return;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter(event);
      return;
    }
    if (this.queue.length >= this.capacity) {
      this.fail(watchTooSlow(this.capacity));
      return;
    }
    this.queue.push(event);
  }

  /** The next event; undefined once closed or `signal` aborts; throws the failure that cut it off. */
  async next(signal: AbortSignal): Promise<T | undefined> {
    if (this.failure) throw this.failure;
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    if (this.closed || signal.aborted) return undefined;
    const event = await new Promise<T | undefined>((resolve) => {
      const onAbort = () => resolve(undefined);
      this.waiter = (received) => {
        signal.removeEventListener('abort', onAbort);
        resolve(received);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    this.waiter = undefined;
    if (this.failure) throw this.failure;
    return event;
  }

  /** Cuts the subscription off: `next` and `failed` report `error`. */
  fail(error: AppError): void {
    if (this.closed) return;
    this.failure = error;
    this.rejectFailed(error);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.waiter?.(undefined);
    this.waiter = undefined;
    this.onClose(this);
  }
}

/** Open streams per process and per calling service: each holds up to `capacity` queued events. */
export interface WatchLimits {
  maxStreams: number;
  maxStreamsPerCaller: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = { maxStreams: 1_000, maxStreamsPerCaller: 100 };

/** Fans session events out to the WatchSessions streams of this process. */
export class WatchHub<T extends Watchable> {
  private readonly subscriptions = new Set<WatchSubscription<T>>();
  private readonly perCaller = new Map<string, number>();

  constructor(
    private readonly capacity: number,
    private readonly limits: WatchLimits = DEFAULT_WATCH_LIMITS,
  ) {}

  get watchers(): number {
    return this.subscriptions.size;
  }

  /** A new stream for `caller` (a service identity); RESOURCE_EXHAUSTED past either limit. */
  subscribe(userId: string | undefined, caller: string): WatchSubscription<T> {
    const open = this.perCaller.get(caller) ?? 0;
    if (open >= this.limits.maxStreamsPerCaller)
      throw watchStreamsExhausted('caller', this.limits.maxStreamsPerCaller);
    if (this.subscriptions.size >= this.limits.maxStreams)
      throw watchStreamsExhausted('process', this.limits.maxStreams);
    const subscription = new WatchSubscription<T>(userId, this.capacity, (s) => {
      this.subscriptions.delete(s);
      const left = (this.perCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.perCaller.set(caller, left);
      else this.perCaller.delete(caller);
    });
    this.subscriptions.add(subscription);
    this.perCaller.set(caller, open + 1);
    return subscription;
  }

  publish(event: T): void {
    for (const subscription of this.subscriptions) subscription.push(event);
  }

  /** Ends every stream with `error` (shutdown, or the event feed was lost). */
  failAll(error: AppError): void {
    for (const subscription of [...this.subscriptions]) subscription.fail(error);
  }
}
