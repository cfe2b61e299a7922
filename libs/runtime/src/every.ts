import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@warden/logger';

export interface Periodic {
  /** Waits for a run in progress, then stops. */
  stop(): Promise<void>;
}

/**
 * Runs `task` now, then `intervalMs` after each run ends (runs never overlap); a failure is
 * logged and the next run still comes.
 */
export function every(
  intervalMs: number,
  task: () => Promise<unknown>,
  o: { name: string; logger: Pick<Logger, 'error'> },
): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = task()
      .then(
        () => undefined,
        (err: unknown) => o.logger.error({ err, task: o.name }, 'periodic task failed'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * Runs `batch` (which handles at most `limit` rows) until one handles fewer, or `maxBatches`
 * ran, so one sweep cannot run for ever; returns the rows handled in all.
 */
export async function sweepInBatches(
  batch: () => Promise<number>,
  limit: number,
  maxBatches = 100,
): Promise<number> {
  let total = 0;
  for (let run = 0; run < maxBatches; run++) {
    const handled = await batch();
    total += handled;
    if (handled < limit) break;
  }
  return total;
}

export interface RetryOptions {
  /** Pause after the n-th failed attempt (n from 1). */
  delayMs(attempt: number): number;
  /** Give up (resolve undefined) after this many failures; default: never. */
  maxAttempts?: number;
  /** A failure this says no to ends the retries: `retry` rejects with it. */
  retryable?(error: unknown): boolean;
  onFailure?(error: unknown, attempt: number): void;
}

/**
 * Runs `attempt` until it resolves, pausing after each failure; `signal` ends the waiting (and
 * the retries) at once. Resolves undefined when stopped or out of attempts.
 */
export async function retry<T>(
  attempt: () => Promise<T>,
  o: RetryOptions,
  signal?: AbortSignal,
): Promise<T | undefined> {
  for (let n = 1; !signal?.aborted; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (o.retryable && !o.retryable(error)) throw error;
      o.onFailure?.(error, n);
      if (o.maxAttempts !== undefined && n >= o.maxAttempts) return undefined;
      // An abort ends the pause at once (the rejection it causes is the signal, not an error).
      await sleep(o.delayMs(n), undefined, { signal }).catch(() => undefined);
    }
  }
  return undefined;
}
