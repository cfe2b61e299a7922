import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { Wakeup } from './wakeup.js';

describe('backoffDelay', () => {
  it('doubles per failure within its jitter band and stops at the cap', () => {
    for (let i = 0; i < 100; i++) {
      expect(backoffDelay(1, 100, 10_000)).toBeGreaterThanOrEqual(50);
      expect(backoffDelay(1, 100, 10_000)).toBeLessThanOrEqual(100);
      expect(backoffDelay(4, 100, 10_000)).toBeGreaterThanOrEqual(400);
      expect(backoffDelay(4, 100, 10_000)).toBeLessThanOrEqual(800);
      expect(backoffDelay(40, 100, 10_000)).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('Wakeup', () => {
  const never = new AbortController().signal;

  it('keeps a notification that came while nobody waited', async () => {
    const wakeup = new Wakeup();
    wakeup.notify();
    const started = Date.now();
    await wakeup.wait(5_000, never);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('wakes a waiter early', async () => {
    const wakeup = new Wakeup();
    const started = Date.now();
    setTimeout(() => wakeup.notify(), 20);
    await wakeup.wait(5_000, never);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('times out without a notification', async () => {
    const started = Date.now();
    await new Wakeup().wait(30, never);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });
});
