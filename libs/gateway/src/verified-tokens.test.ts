import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from './verified-tokens.js';

describe('VerifiedTokens', () => {
  it('answers an entry until its time, then forgets it', () => {
    const cache = new VerifiedTokens<string>(10);
    cache.set('t', 'claims', 1_000);
    expect(cache.get('t', 999)).toBe('claims');
    expect(cache.get('t', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most max entries, dropping the oldest; max 0 keeps none', () => {
    const cache = new VerifiedTokens<number>(2);
    cache.set('a', 1, 10);
    cache.set('b', 2, 10);
    cache.set('c', 3, 10);
    expect([cache.get('a', 0), cache.get('b', 0), cache.get('c', 0)]).toEqual([undefined, 2, 3]);
    const none = new VerifiedTokens<number>(0);
    none.set('a', 1, 10);
    expect(none.get('a', 0)).toBeUndefined();
  });
});
