import { describe, expect, it } from 'vitest';
import { anAssignment, aUserId, FakeClock, T0 } from '../../test/support/mothers.js';
import { builtInRoles, RoleCatalogue, type RoleAssignment } from '../domain/index.js';
import { DEFAULT_SUBJECT_CACHE_MAX, MAX_SUBJECTS_PER_READ, PolicyModel } from './policy-model.js';

/** A model over a fixed list of assignments, counting the reads of each subject. */
function setUp(assignments: RoleAssignment[], maxSubjects?: number) {
  const reads = new Map<string, number>();
  const model = new PolicyModel(new FakeClock(), {
    source: {
      assignmentsOf: async (subjectId) => {
        reads.set(subjectId, (reads.get(subjectId) ?? 0) + 1);
        return assignments.filter((a) => a.subjectId === subjectId);
      },
    },
    ...(maxSubjects === undefined ? {} : { maxSubjects }),
  });
  model.replaceCatalogue(new RoleCatalogue(builtInRoles(T0)));
  return { model, reads };
}

describe('PolicyModel subject cache', () => {
  it('holds 100k subjects by default (authz.subject_cache_max)', () => {
    expect(DEFAULT_SUBJECT_CACHE_MAX).toBe(100_000);
    expect(setUp([]).model.cache.max).toBe(100_000);
  });

  it('keeps what a decision needs of an assignment, and one shared list for every subject holding one role for good', async () => {
    const [a, b, c] = [aUserId(), aUserId(), aUserId()];
    const expires = new Date(T0.getTime() + 60_000);
    const { model } = setUp([
      anAssignment({ subjectId: a, role: 'player' }),
      anAssignment({ subjectId: b, role: 'player' }),
      anAssignment({ subjectId: c, role: 'player', expireTime: expires }),
      anAssignment({ subjectId: c, role: 'admin', scope: { type: 'guild', id: '7' } }),
    ]);

    const [heldA, heldB, heldC] = await Promise.all([a, b, c].map((s) => model.assignmentsOf(s)));
    expect(heldA).toEqual([{ role: 'player' }]);
    // Not a copy each: the same frozen list, so such a subject costs its key and a map slot.
    expect(heldB).toBe(heldA);
    expect(Object.isFrozen(heldA)).toBe(true);
    // Neither subject ids nor create times are kept.
    expect(heldC).toEqual([
      { role: 'player', expireTime: expires },
      { role: 'admin', scope: { type: 'guild', id: '7' } },
    ]);
    expect(model.decide(b, 'game.join')).toMatchObject({ allowed: true });
  });

  it('never holds more subjects than its bound, however many are asked about, and reads an evicted one again', async () => {
    const subjects = Array.from({ length: 50 }, () => aUserId());
    const { model, reads } = setUp(
      subjects.map((subjectId) => anAssignment({ subjectId })),
      10,
    );

    for (const subject of subjects) {
      await model.decide(subject, 'game.join');
      expect(model.cache.size).toBeLessThanOrEqual(10);
    }
    expect(model.cache.size).toBe(10);
    expect(model.cache.stats.evictions).toBe(40);
    // The last ten are answered from memory; the first was evicted and is read again.
    for (const subject of subjects.slice(-10)) expect(model.holds(subject)).toBe(true);
    expect(model.holds(subjects[0]!)).toBe(false);
    await model.decide(subjects[0]!, 'game.join');
    expect(reads.get(subjects[0]!)).toBe(2);
    expect(reads.get(subjects.at(-1)!)).toBe(1);
  });
});

/** A model whose source reads several subjects at once too, recording each read's subjects. */
function batching(assignments: RoleAssignment[]) {
  const singles: string[] = [];
  const batches: string[][] = [];
  let failing = false;
  const source = {
    assignmentsOf: async (subjectId: string) => {
      singles.push(subjectId);
      if (failing) throw new Error('db down');
      return assignments.filter((a) => a.subjectId === subjectId);
    },
    assignmentsOfMany: async (subjectIds: readonly string[]) => {
      batches.push([...subjectIds]);
      if (failing) throw new Error('db down');
      const bySubject = new Map<string, RoleAssignment[]>();
      for (const a of assignments)
        if (subjectIds.includes(a.subjectId))
          bySubject.set(a.subjectId, [...(bySubject.get(a.subjectId) ?? []), a]);
      return bySubject;
    },
  };
  const model = new PolicyModel(new FakeClock(), { source });
  model.replaceCatalogue(new RoleCatalogue(builtInRoles(T0)));
  return { model, singles, batches, fail: (on: boolean) => (failing = on) };
}

describe('PolicyModel cache misses', () => {
  it('reads the misses of one batch together in one read, and a lone miss alone', async () => {
    const subjects = Array.from({ length: 5 }, () => aUserId());
    const stranger = aUserId();
    const { model, singles, batches } = batching(
      subjects.map((subjectId) => anAssignment({ subjectId })),
    );

    const decisions = await Promise.all(
      [...subjects, subjects[0]!, stranger].map((s) => model.decide(s, 'game.join')),
    );
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, true, false]);
    expect(batches).toEqual([[...subjects, stranger]]);
    expect(singles).toEqual([]);
    // All cached now, the one holding nothing too.
    expect(model.cache.size).toBe(6);

    const lone = aUserId();
    await model.decide(lone, 'game.join');
    expect(singles).toEqual([lone]);
    expect(batches).toHaveLength(1);
  });

  it(`reads at most ${MAX_SUBJECTS_PER_READ} subjects in one statement`, async () => {
    const subjects = Array.from({ length: MAX_SUBJECTS_PER_READ + 2 }, () => aUserId());
    const { model, singles, batches } = batching([]);
    await Promise.all(subjects.map((s) => model.decide(s, 'game.join')));
    expect(batches.map((b) => b.length)).toEqual([MAX_SUBJECTS_PER_READ, 2]);
    expect(singles).toEqual([]);
  });

  it('fails every check waiting on a batched read that failed, caches none of them, and reads them again next time', async () => {
    const [a, b] = [aUserId(), aUserId()];
    const { model, batches, fail } = batching([anAssignment({ subjectId: a })]);
    fail(true);
    const failed = await Promise.allSettled([a, b].map((s) => model.decide(s, 'game.join')));
    for (const result of failed)
      expect(result).toMatchObject({
        status: 'rejected',
        reason: { reason: 'POLICY_UNAVAILABLE' },
      });
    expect(model.cache.size).toBe(0);

    fail(false);
    const [allowed] = await Promise.all([a, b].map((s) => model.decide(s, 'game.join')));
    expect(allowed).toMatchObject({ allowed: true });
    expect(batches).toHaveLength(2);
  });

  it('never installs a batched read of a subject forgotten after it was asked for', async () => {
    const [a, b] = [aUserId(), aUserId()];
    const { model } = batching([anAssignment({ subjectId: a }), anAssignment({ subjectId: b })]);
    const checks = Promise.all([a, b].map((s) => model.decide(s, 'game.join')));
    // A revocation's event for `a` arrives before the read returns: what it reads may predate it.
    expect(model.forgetSubject(a)).toBe(true);
    await checks;
    expect(model.holds(a)).toBe(false);
    expect(model.holds(b)).toBe(true);
  });
});
