import { describe, expect, it } from 'vitest';
import { anAssignment, aUserId, FakeClock, T0 } from '../../test/support/mothers.js';
import { builtInRoles, RoleCatalogue, type RoleAssignment } from '../domain/index.js';
import { DEFAULT_SUBJECT_CACHE_MAX, PolicyModel } from './policy-model.js';

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
