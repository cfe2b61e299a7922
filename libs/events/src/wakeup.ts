import { sleep } from './backoff.js';

/** A wake-up signal that is not lost when it fires while nobody is waiting. */
export class Wakeup {
  private pending = false;
  private waker: AbortController | undefined;

  notify(): void {
    if (this.waker) this.waker.abort();
    else this.pending = true;
  }

  /** Resolves on `notify()` (also one that came since the last wait), after `ms`, or on abort. */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return;
    }
    this.waker = new AbortController();
    try {
      await sleep(ms, AbortSignal.any([signal, this.waker.signal]));
    } finally {
      this.waker = undefined;
    }
  }
}
