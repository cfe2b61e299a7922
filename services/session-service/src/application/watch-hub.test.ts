import { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import { WatchHub } from './watch-hub.js';

const event = (userId: string, n: number) => ({ userId, n });

describe('WatchHub', () => {
  it('delivers events in order to every watcher, filtered by user when asked', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(10);
    const all = hub.subscribe(undefined, 'gateway');
    const alice = hub.subscribe('alice', 'gateway');
    hub.publish(event('alice', 1));
    hub.publish(event('bob', 2));
    hub.publish(event('alice', 3));
    const signal = new AbortController().signal;
    expect(
      [await all.next(signal), await all.next(signal), await all.next(signal)].map((e) => e?.n),
    ).toEqual([1, 2, 3]);
    expect([await alice.next(signal), await alice.next(signal)].map((e) => e?.n)).toEqual([1, 3]);
  });

  it('wakes a waiting watcher when an event arrives', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(10);
    const watcher = hub.subscribe(undefined, 'gateway');
    const next = watcher.next(new AbortController().signal);
    hub.publish(event('alice', 7));
    await expect(next).resolves.toEqual(event('alice', 7));
  });

  it('cuts off a watcher that falls behind with RESOURCE_EXHAUSTED instead of buffering', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(2);
    const slow = hub.subscribe(undefined, 'gateway');
    const fast = hub.subscribe(undefined, 'gateway');
    const signal = new AbortController().signal;
    for (let n = 1; n <= 2; n++) {
      hub.publish(event('alice', n));
      await fast.next(signal);
    }
    hub.publish(event('alice', 3));
    await expect(slow.failed).rejects.toMatchObject({ kind: 'RESOURCE_EXHAUSTED' });
    await expect(slow.next(signal)).rejects.toMatchObject({ kind: 'RESOURCE_EXHAUSTED' });
    expect(hub.watchers).toBe(1);
    await expect(fast.next(signal)).resolves.toEqual(event('alice', 3));
  });

  it('ends a waiting watcher quietly when its caller goes away', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(2);
    const watcher = hub.subscribe(undefined, 'gateway');
    const controller = new AbortController();
    const next = watcher.next(controller.signal);
    controller.abort();
    await expect(next).resolves.toBeUndefined();
    watcher.close();
    expect(hub.watchers).toBe(0);
  });

  it('fails every stream at once (shutdown)', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(2);
    const watchers = [hub.subscribe(undefined, 'gateway'), hub.subscribe('bob', 'gateway')];
    const waiting = watchers.map((w) => w.next(new AbortController().signal));
    hub.failAll(new AppError('UNAVAILABLE', 'SHUTTING_DOWN', 'bye'));
    for (const w of waiting) await expect(w).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
    expect(hub.watchers).toBe(0);
  });

  describe('limits', () => {
    const limited = () =>
      new WatchHub<{ userId: string; n: number }>(10, { maxStreams: 3, maxStreamsPerCaller: 2 });

    it('refuses a caller past its own stream limit with RESOURCE_EXHAUSTED, others unaffected', () => {
      const hub = limited();
      hub.subscribe(undefined, 'gateway');
      hub.subscribe('alice', 'gateway');
      let error: unknown;
      try {
        hub.subscribe(undefined, 'gateway');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(AppError);
      expect(error).toMatchObject({
        kind: 'RESOURCE_EXHAUSTED',
        reason: 'WATCH_STREAMS_EXHAUSTED',
        metadata: { scope: 'caller', limit: '2' },
      });
      expect(hub.watchers).toBe(2);
      expect(hub.subscribe(undefined, 'admin-console')).toBeDefined();
    });

    it('refuses everyone past the process limit', () => {
      const hub = limited();
      hub.subscribe(undefined, 'a');
      hub.subscribe(undefined, 'b');
      hub.subscribe(undefined, 'c');
      expect(() => hub.subscribe(undefined, 'd')).toThrow(
        expect.objectContaining({
          reason: 'WATCH_STREAMS_EXHAUSTED',
          metadata: { scope: 'process', limit: '3' },
        }),
      );
    });

    it('gives the slot back when a stream closes or is cut off', () => {
      const hub = limited();
      const first = hub.subscribe(undefined, 'gateway');
      const second = hub.subscribe(undefined, 'gateway');
      first.close();
      first.close();
      const third = hub.subscribe(undefined, 'gateway');
      expect(() => hub.subscribe(undefined, 'gateway')).toThrow(
        expect.objectContaining({ reason: 'WATCH_STREAMS_EXHAUSTED' }),
      );
      second.fail(new AppError('UNAVAILABLE', 'FEED_LOST', 'lost'));
      hub.failAll(new AppError('UNAVAILABLE', 'SHUTTING_DOWN', 'bye'));
      expect(third.pending).toBe(0);
      expect(hub.watchers).toBe(0);
      hub.subscribe(undefined, 'gateway');
      hub.subscribe(undefined, 'gateway');
      expect(hub.watchers).toBe(2);
    });
  });
});
