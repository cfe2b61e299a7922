import { describe, expect, it } from 'vitest';
import { PrincipalCache } from './principal-cache.js';

const alice = { userId: 'u-alice', sessionId: 's-alice' };
const bob = { userId: 'u-bob', sessionId: 's-bob' };

describe('PrincipalCache', () => {
  it('returns an entry until its expiry, then forgets it', () => {
    const cache = new PrincipalCache(10);
    cache.set('k1', alice, 1_000);
    expect(cache.get('k1', 999)).toEqual(alice);
    expect(cache.get('k1', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond its size', () => {
    const cache = new PrincipalCache(2);
    cache.set('k1', alice, 1_000);
    cache.set('k2', bob, 1_000);
    cache.get('k1', 0);
    cache.set('k3', bob, 1_000);
    expect(cache.get('k1', 0)).toEqual(alice);
    expect(cache.get('k2', 0)).toBeUndefined();
    expect(cache.get('k3', 0)).toEqual(bob);
  });

  it('drops every token of a session at once', () => {
    const cache = new PrincipalCache(10);
    cache.set('old-token', alice, 1_000);
    cache.set('new-token', alice, 1_000);
    cache.set('other', bob, 1_000);
    cache.dropSession(alice.sessionId);
    expect(cache.get('old-token', 0)).toBeUndefined();
    expect(cache.get('new-token', 0)).toBeUndefined();
    expect(cache.get('other', 0)).toEqual(bob);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new PrincipalCache(0)).toThrow(RangeError);
  });
});
