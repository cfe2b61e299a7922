import { describe, expect, it } from 'vitest';
import { aSession } from '../../test/support/mothers.js';
import { SessionCache } from './session-cache.js';

describe('SessionCache', () => {
  it('finds a session by token hash, fresh until its TTL', () => {
    const cache = new SessionCache(10, 1_000);
    const session = aSession();
    cache.put(session, 0);
    expect(cache.lookup(session.tokenHash, 999)).toEqual({ session, fresh: true });
    expect(cache.lookup(session.tokenHash, 1_000)).toEqual({ session, fresh: false });
  });

  it('counts fresh lookups as hits, absent and stale ones as misses', () => {
    const cache = new SessionCache(10, 1_000);
    const session = aSession();
    cache.lookup(session.tokenHash, 0);
    cache.put(session, 0);
    cache.lookup(session.tokenHash, 999);
    cache.lookup(session.tokenHash, 1_000);
    expect(cache.stats).toEqual({ hits: 1, misses: 2 });
  });

  it('evicts the least recently used beyond its size', () => {
    const cache = new SessionCache(2, 1_000);
    const [a, b, c] = [aSession(), aSession(), aSession()];
    cache.put(a, 0);
    cache.put(b, 0);
    cache.lookup(a.tokenHash, 0);
    cache.put(c, 0);
    expect(cache.lookup(b.tokenHash, 0)).toBeUndefined();
    expect(cache.lookup(a.tokenHash, 0)).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('drops a session by id, and forgets the old token when a session is stored with a new one', () => {
    const cache = new SessionCache(10, 1_000);
    const session = aSession();
    cache.put(session, 0);
    const rotated = { ...session, tokenHash: 'new-hash' };
    cache.put(rotated, 0);
    expect(cache.lookup(session.tokenHash, 0)).toBeUndefined();
    cache.dropSession(session.id);
    expect(cache.lookup('new-hash', 0)).toBeUndefined();
  });

  it('refuses a load that began before a drop, so a revoked session is not cached again', () => {
    const cache = new SessionCache(10, 1_000);
    const session = aSession();
    const generation = cache.currentGeneration;
    cache.dropSession(session.id);
    cache.put(session, 0, generation);
    expect(cache.lookup(session.tokenHash, 0)).toBeUndefined();
  });

  it('caches nothing while untrusted', () => {
    const cache = new SessionCache(10, 1_000);
    const session = aSession();
    cache.put(session, 0);
    cache.setTrusted(false);
    expect(cache.lookup(session.tokenHash, 0)).toBeUndefined();
    cache.put(session, 0);
    expect(cache.size).toBe(0);
    cache.setTrusted(true);
    cache.put(session, 0);
    expect(cache.size).toBe(1);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new SessionCache(0, 1_000)).toThrow(RangeError);
  });
});
