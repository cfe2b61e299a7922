import { describe, expect, it } from 'vitest';
import { DecisionCache, decisionKey } from './decision-cache.js';

const allow = { allowed: true, reason: 'role player grants game.join' };

function aCache(ttlMs = 5_000, maxEntries?: number) {
  const clock = { now: 0 };
  const cache = new DecisionCache({ ttlMs, maxEntries, now: () => clock.now });
  return { cache, clock };
}

describe('DecisionCache', () => {
  it('keys on subject, permission and every part of the resource', () => {
    const base = decisionKey('u1', 'session.end', { type: 'session', id: 's1', ownerId: 'u1' });
    expect(decisionKey('u2', 'session.end', { type: 'session', id: 's1', ownerId: 'u1' })).not.toBe(
      base,
    );
    expect(
      decisionKey('u1', 'session.read', { type: 'session', id: 's1', ownerId: 'u1' }),
    ).not.toBe(base);
    expect(decisionKey('u1', 'session.end', { type: 'user', id: 's1', ownerId: 'u1' })).not.toBe(
      base,
    );
    expect(decisionKey('u1', 'session.end', { type: 'session', id: 's2', ownerId: 'u1' })).not.toBe(
      base,
    );
    expect(decisionKey('u1', 'session.end', { type: 'session', id: 's1', ownerId: 'u2' })).not.toBe(
      base,
    );
    expect(decisionKey('u1', 'session.end', { type: 'session', id: 's1' })).not.toBe(base);
  });

  it('returns a stored decision until its TTL passes', () => {
    const { cache, clock } = aCache(5_000);
    cache.set('k', allow, cache.generation);
    clock.now = 4_999;
    expect(cache.get('k')).toEqual(allow);
    clock.now = 5_000;
    expect(cache.get('k')).toBeUndefined();
  });

  it('forgets everything on clear', () => {
    const { cache } = aCache();
    cache.set('a', allow, cache.generation);
    cache.set('b', allow, cache.generation);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('refuses an answer fetched before a clear, so a racing lookup cannot restore a revoked grant', () => {
    const { cache } = aCache();
    const before = cache.generation;
    cache.clear();
    cache.set('k', allow, before);
    expect(cache.get('k')).toBeUndefined();
  });

  it('stores nothing with a zero TTL', () => {
    const { cache } = aCache(0);
    cache.set('k', allow, cache.generation);
    expect(cache.size).toBe(0);
  });

  it('starts over instead of growing past maxEntries', () => {
    const { cache } = aCache(5_000, 2);
    cache.set('a', allow, cache.generation);
    cache.set('b', allow, cache.generation);
    cache.set('c', allow, cache.generation);
    expect(cache.size).toBe(1);
    expect(cache.get('c')).toEqual(allow);
  });
});
