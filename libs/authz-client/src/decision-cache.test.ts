import { describe, expect, it } from 'vitest';
import { DecisionCache, decisionKey } from './decision-cache.js';

const allow = { allowed: true, reason: 'role player grants game.join' };

function aCache(ttlMs = 5_000, maxEntries?: number, guardSlots?: number) {
  const clock = { now: 0 };
  const cache = new DecisionCache({ ttlMs, maxEntries, guardSlots, now: () => clock.now });
  const put = (subject: string, key: string) => cache.set(subject, key, allow, cache.generation());
  return { cache, clock, put };
}

describe('DecisionCache', () => {
  it('keys on permission and every part of the resource', () => {
    const base = decisionKey('session.end', { type: 'session', id: 's1', ownerId: 'u1' });
    expect(decisionKey('session.read', { type: 'session', id: 's1', ownerId: 'u1' })).not.toBe(
      base,
    );
    expect(decisionKey('session.end', { type: 'user', id: 's1', ownerId: 'u1' })).not.toBe(base);
    expect(decisionKey('session.end', { type: 'session', id: 's2', ownerId: 'u1' })).not.toBe(base);
    expect(decisionKey('session.end', { type: 'session', id: 's1', ownerId: 'u2' })).not.toBe(base);
    expect(decisionKey('session.end', { type: 'session', id: 's1' })).not.toBe(base);
  });

  it('counts hits, and misses for absent and expired decisions', () => {
    const { cache, clock, put } = aCache(1_000);
    cache.get('u1', 'k');
    put('u1', 'k');
    cache.get('u1', 'k');
    clock.now = 1_000;
    cache.get('u1', 'k');
    expect(cache.stats).toEqual({ hits: 1, misses: 2 });
  });

  it('keeps subjects apart', () => {
    const { cache, put } = aCache();
    put('u1', 'k');
    expect(cache.get('u1', 'k')).toEqual(allow);
    expect(cache.get('u2', 'k')).toBeUndefined();
  });

  it('returns a stored decision until its TTL passes', () => {
    const { cache, clock, put } = aCache(5_000);
    put('u1', 'k');
    clock.now = 4_999;
    expect(cache.get('u1', 'k')).toEqual(allow);
    clock.now = 5_000;
    expect(cache.get('u1', 'k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets everything on clear', () => {
    const { cache, put } = aCache();
    put('u1', 'a');
    put('u2', 'b');
    cache.clear();
    expect(cache.get('u1', 'a')).toBeUndefined();
    expect(cache.get('u2', 'b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('forgets one subject on clearSubject and keeps the others', () => {
    const { cache, put } = aCache();
    put('u1', 'a');
    put('u1', 'b');
    put('u2', 'a');
    cache.clearSubject('u1');
    expect(cache.get('u1', 'a')).toBeUndefined();
    expect(cache.get('u1', 'b')).toBeUndefined();
    expect(cache.get('u2', 'a')).toEqual(allow);
    expect(cache.size).toBe(1);
  });

  it('refuses an answer fetched before a clear, so a racing lookup cannot restore a revoked grant', () => {
    const { cache } = aCache();
    const before = cache.generation();
    cache.clear();
    cache.set('u1', 'k', allow, before);
    expect(cache.get('u1', 'k')).toBeUndefined();
  });

  it("refuses an answer fetched before its subject's clear, and takes other subjects' answers", () => {
    const { cache } = aCache();
    const u1 = cache.generation();
    const u2 = cache.generation();
    cache.clearSubject('u1');
    cache.set('u1', 'k', allow, u1);
    cache.set('u2', 'k', allow, u2);
    expect(cache.get('u1', 'k')).toBeUndefined();
    expect(cache.get('u2', 'k')).toEqual(allow);
  });

  it('refuses an answer fetched before a subject clear that a full clear then wiped', () => {
    const { cache } = aCache();
    cache.clearSubject('u1');
    const stale = cache.generation();
    cache.clear();
    cache.set('u1', 'k', allow, stale);
    expect(cache.get('u1', 'k')).toBeUndefined();
  });

  it('stores nothing with a zero TTL', () => {
    const { cache, put } = aCache(0);
    put('u1', 'k');
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used subjects past maxEntries', () => {
    const { cache, put } = aCache(5_000, 3);
    put('u1', 'a');
    put('u2', 'a');
    put('u2', 'b');
    cache.get('u1', 'a'); // u1 is now more recent than u2
    put('u3', 'a');
    expect(cache.size).toBe(2);
    expect(cache.get('u2', 'a')).toBeUndefined();
    expect(cache.get('u1', 'a')).toEqual(allow);
    expect(cache.get('u3', 'a')).toEqual(allow);
  });

  it("keeps one subject's decisions within maxEntries too, oldest out first", () => {
    const { cache, put } = aCache(5_000, 2);
    put('u1', 'a');
    put('u1', 'b');
    put('u1', 'c');
    expect(cache.size).toBe(2);
    expect(cache.get('u1', 'a')).toBeUndefined();
    expect(cache.get('u1', 'c')).toEqual(allow);
  });

  it('clears of subjects it never held cost nothing and keep the rest', () => {
    const { cache, put } = aCache(5_000, 2);
    put('u9', 'k');
    for (let i = 0; i < 10_000; i++) cache.clearSubject(`other-${i}`);
    expect(cache.get('u9', 'k')).toEqual(allow);
    expect(cache.size).toBe(1);
  });

  it('a subject sharing a guard slot with a cleared one is at worst not cached, never stale', () => {
    const { cache } = aCache(5_000, 100, 1); // one slot: every subject collides
    const u1 = cache.generation();
    cache.clearSubject('u2');
    cache.set('u1', 'k', allow, u1); // refused: u2's clear may have been u1's
    expect(cache.get('u1', 'k')).toBeUndefined();
    const later = cache.generation();
    cache.set('u1', 'k', allow, later); // begun after the clear: taken
    expect(cache.get('u1', 'k')).toEqual(allow);
  });

  it('never answers a lookup from a decision older than the revision it asks for', () => {
    const { cache } = aCache();
    const deny = { allowed: false, reason: 'no role grants game.join' };
    cache.set('u1', 'k', allow, cache.generation(), 3);
    expect(cache.get('u1', 'k')).toEqual(allow);
    expect(cache.get('u1', 'k', 3)).toEqual(allow);
    expect(cache.get('u1', 'k', 4)).toBeUndefined();
    cache.set('u1', 'k', deny, cache.generation(), 4);
    expect(cache.get('u1', 'k', 4)).toEqual(deny);
    // A slower answer from an older revision does not replace it.
    cache.set('u1', 'k', allow, cache.generation(), 3);
    expect(cache.get('u1', 'k')).toEqual(deny);
    expect(cache.stats).toEqual({ hits: 4, misses: 1 });
  });
});
