import { describe, expect, it } from 'vitest';
import { anAssignment, aUserId } from '../../test/support/mothers.js';
import type { HeldRole, RoleAssignment } from '../domain/index.js';
import { SubjectCache } from './subject-cache.js';

/** A loader whose reads the test answers by hand, each with the state at the time it was asked. */
class ManualLoader {
  readonly reads: Array<{ subjectId: string; answer: () => void; fail: (e: Error) => void }> = [];
  state = new Map<string, RoleAssignment[]>();

  readonly load = (subjectId: string): Promise<readonly RoleAssignment[]> => {
    const seen = [...(this.state.get(subjectId) ?? [])];
    return new Promise((resolve, reject) =>
      this.reads.push({ subjectId, answer: () => resolve(seen), fail: reject }),
    );
  };

  /** Answers the read at `index` (in asking order, among those not answered yet). */
  async answer(index = 0): Promise<void> {
    this.reads.splice(index, 1)[0]!.answer();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const roles = (held: readonly HeldRole[] | undefined) => held?.map((a) => a.role);

describe('SubjectCache', () => {
  it('reads a subject once, however many lookups wait for it, and answers later ones from memory', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(10, loader.load);
    const userId = aUserId();
    loader.state.set(userId, [anAssignment({ subjectId: userId, role: 'player' })]);

    expect(cache.peek(userId)).toBeUndefined();
    const first = cache.fetch(userId);
    const second = cache.fetch(userId);
    expect(loader.reads).toHaveLength(1);
    await loader.answer();
    expect(roles(await first)).toEqual(['player']);
    expect(roles(await second)).toEqual(['player']);
    expect(roles(cache.peek(userId))).toEqual(['player']);
    expect(cache.stats).toEqual({ hits: 1, misses: 1, evictions: 0 });
  });

  it('caches a subject that holds nothing, so unknown subjects do not read every time', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(10, loader.load);
    const userId = aUserId();
    const read = cache.fetch(userId);
    await loader.answer();
    expect(await read).toEqual([]);
    expect(cache.peek(userId)).toEqual([]);
    expect(loader.reads).toHaveLength(0);
  });

  it('never installs a read that started before a revocation', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(10, loader.load);
    const userId = aUserId();
    loader.state.set(userId, [anAssignment({ subjectId: userId, role: 'admin' })]);

    const before = cache.fetch(userId); // reads admin
    loader.state.set(userId, []); // the revocation commits...
    expect(cache.forget(userId)).toBe(true); // ...and its event arrives
    const after = cache.fetch(userId); // a new read: sees no role
    expect(loader.reads).toHaveLength(2);

    await loader.answer(1); // the newer read returns first
    await loader.answer(0); // the stale one last
    expect(roles(await after)).toEqual([]);
    // The caller that asked before the revocation gets what it read; the cache does not keep it.
    expect(roles(await before)).toEqual(['admin']);
    expect(cache.peek(userId)).toEqual([]);
  });

  it('never installs a read that started before everything was forgotten', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(10, loader.load);
    const userId = aUserId();
    loader.state.set(userId, [anAssignment({ subjectId: userId, role: 'moderator' })]);
    const stale = cache.fetch(userId);
    cache.forgetAll();
    await loader.answer();
    expect(roles(await stale)).toEqual(['moderator']);
    expect(cache.peek(userId)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.loading).toBe(0);
  });

  it('evicts the least recently used subject past its bound, and reads an evicted one afresh', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(2, loader.load);
    const [a, b, c] = [aUserId(), aUserId(), aUserId()];
    for (const id of [a, b, c])
      loader.state.set(id, [anAssignment({ subjectId: id, role: 'player' })]);

    for (const id of [a, b]) {
      const read = cache.fetch(id);
      await loader.answer();
      await read;
    }
    cache.peek(a); // a is now more recent than b
    const readC = cache.fetch(c);
    await loader.answer();
    await readC;
    expect(cache.size).toBe(2);
    expect(cache.stats.evictions).toBe(1);
    expect(cache.has(b)).toBe(false);
    expect(cache.has(a)).toBe(true);

    // b changed while it was out of the cache (its event found nothing to drop): read afresh.
    loader.state.set(b, [anAssignment({ subjectId: b, role: 'admin' })]);
    expect(cache.forget(b)).toBe(false);
    expect(cache.peek(b)).toBeUndefined();
    const readB = cache.fetch(b);
    await loader.answer();
    expect(roles(await readB)).toEqual(['admin']);
    expect(cache.size).toBe(2);
  });

  it('keeps nothing of a failed read: the next lookup reads again', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(10, loader.load);
    const userId = aUserId();
    const failing = cache.fetch(userId);
    loader.reads.shift()!.fail(new Error('db down'));
    await expect(failing).rejects.toThrow('db down');
    expect(cache.has(userId)).toBe(false);
    const retry = cache.fetch(userId);
    expect(loader.reads).toHaveLength(1);
    await loader.answer();
    expect(await retry).toEqual([]);
  });

  it('caches nothing while not accepting, and again once accepting', async () => {
    const loader = new ManualLoader();
    const cache = new SubjectCache(10, loader.load);
    const userId = aUserId();
    const first = cache.fetch(userId);
    await loader.answer();
    await first;
    cache.setAccepting(false); // what was cached goes...
    expect(cache.has(userId)).toBe(false);
    const read = cache.fetch(userId);
    await loader.answer();
    await read;
    expect(cache.has(userId)).toBe(false); // ...and nothing read meanwhile stays
    cache.setAccepting(true);
    const again = cache.fetch(userId);
    await loader.answer();
    await again;
    expect(cache.peek(userId)).toEqual([]);
  });

  it('refuses a bound that is not a positive integer', () => {
    const load = async () => [];
    expect(() => new SubjectCache(0, load)).toThrow(RangeError);
    expect(() => new SubjectCache(1.5, load)).toThrow(RangeError);
  });
});
