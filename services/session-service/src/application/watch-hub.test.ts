import { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import { WatchHub } from './watch-hub.js';

const event = (userId: string, n: number) => ({ userId, n });

describe('WatchHub', () => {
  it('delivers events in order to every watcher, filtered by user when asked', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(10);
    const all = hub.subscribe(undefined);
    const alice = hub.subscribe('alice');
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
    const watcher = hub.subscribe(undefined);
    const next = watcher.next(new AbortController().signal);
    hub.publish(event('alice', 7));
    await expect(next).resolves.toEqual(event('alice', 7));
  });

  it('cuts off a watcher that falls behind with RESOURCE_EXHAUSTED instead of buffering', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(2);
    const slow = hub.subscribe(undefined);
    const fast = hub.subscribe(undefined);
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
    const watcher = hub.subscribe(undefined);
    const controller = new AbortController();
    const next = watcher.next(controller.signal);
    controller.abort();
    await expect(next).resolves.toBeUndefined();
    watcher.close();
    expect(hub.watchers).toBe(0);
  });

  it('fails every stream at once (shutdown)', async () => {
    const hub = new WatchHub<{ userId: string; n: number }>(2);
    const watchers = [hub.subscribe(undefined), hub.subscribe('bob')];
    const waiting = watchers.map((w) => w.next(new AbortController().signal));
    hub.failAll(new AppError('UNAVAILABLE', 'SHUTTING_DOWN', 'bye'));
    for (const w of waiting) await expect(w).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
    expect(hub.watchers).toBe(0);
  });
});
