import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { every, retry, sweepInBatches } from './every.js';

const quietLogger = () => ({ error: vi.fn() });

describe('every', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs at once, then the interval after each run ends', async () => {
    const task = vi.fn(async () => undefined);
    const periodic = every(1_000, task, { name: 'tick', logger: quietLogger() });
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(2);
    await periodic.stop();
  });

  it('never overlaps a slow run: the next waits for it to end', async () => {
    let active = 0;
    let most = 0;
    const task = vi.fn(async () => {
      most = Math.max(most, ++active);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      active--;
    });
    const periodic = every(100, task, { name: 'slow', logger: quietLogger() });
    await vi.advanceTimersByTimeAsync(5_050);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(task).toHaveBeenCalledTimes(2);
    expect(most).toBe(1);
    const stopped = periodic.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    await stopped;
  });

  it('stop waits for the run in progress and starts no other', async () => {
    let finished = false;
    const task = vi.fn(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished = true;
    });
    const periodic = every(10, task, { name: 'work', logger: quietLogger() });
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(299);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task).toHaveBeenCalledTimes(1);
  });

  it('logs a failure with the task name and keeps going', async () => {
    const logger = quietLogger();
    const failure = new Error('database away');
    const task = vi.fn().mockRejectedValueOnce(failure).mockResolvedValue(undefined);
    const periodic = every(50, task, { name: 'sweep', logger });
    await vi.advanceTimersByTimeAsync(50);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error).toHaveBeenCalledWith(
      { err: failure, task: 'sweep' },
      'periodic task failed',
    );
    expect(task).toHaveBeenCalledTimes(2);
    await periodic.stop();
  });
});

describe('sweepInBatches', () => {
  it('runs batches until one is short of the limit, and adds them up', async () => {
    const sizes = [100, 100, 37, 100];
    const batch = vi.fn(async () => sizes.shift()!);
    expect(await sweepInBatches(batch, 100)).toBe(237);
    expect(batch).toHaveBeenCalledTimes(3);
  });

  it('stops after maxBatches even while batches are full', async () => {
    const batch = vi.fn(async () => 10);
    expect(await sweepInBatches(batch, 10, 3)).toBe(30);
    expect(batch).toHaveBeenCalledTimes(3);
  });

  it('stops after one empty batch', async () => {
    const batch = vi.fn(async () => 0);
    expect(await sweepInBatches(batch, 100)).toBe(0);
    expect(batch).toHaveBeenCalledTimes(1);
  });
});

describe('retry', () => {
  it('retries after each failure with the pause asked for, and returns the result', async () => {
    const failures: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        if (++calls < 3) throw new Error(`attempt ${calls}`);
        return 'done';
      },
      { delayMs: () => 1, onFailure: (_error, n) => failures.push(n) },
    );
    expect(result).toBe('done');
    expect(failures).toEqual([1, 2]);
  });

  it('gives up after maxAttempts', async () => {
    const attempt = vi.fn().mockRejectedValue(new Error('down'));
    expect(await retry(attempt, { delayMs: () => 1, maxAttempts: 3 })).toBeUndefined();
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('rethrows a failure that is not retryable', async () => {
    const fatal = new Error('permission denied');
    await expect(
      retry(() => Promise.reject(fatal), { delayMs: () => 1, retryable: () => false }),
    ).rejects.toBe(fatal);
  });

  it('an abort ends the pause at once and stops retrying', async () => {
    const stop = new AbortController();
    const attempt = vi.fn().mockRejectedValue(new Error('not yet'));
    const running = retry(attempt, { delayMs: () => 60_000 }, stop.signal);
    await vi.waitFor(() => expect(attempt).toHaveBeenCalledTimes(1));
    stop.abort();
    expect(await running).toBeUndefined();
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});
