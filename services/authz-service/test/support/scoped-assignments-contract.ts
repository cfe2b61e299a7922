import { describe, expect, it } from 'vitest';
import type { AuthzRepository } from '../../src/application/ports.js';
import { roleRevoked, type RoleAssignment, type Scope } from '../../src/domain/index.js';
import type { ContractSubject } from './authz-repository-contract.js';
import { aUserId, T0 } from './mothers.js';

const at = (ms: number) => new Date(T0.getTime() + ms);
const guild = (id: string): Scope => ({ type: 'guild', id });

const assignment = (
  subjectId: string,
  role: string,
  extra: Partial<RoleAssignment> = {},
): RoleAssignment => ({ subjectId, role, createTime: T0, ...extra });

const save = (repository: AuthzRepository, ...assignments: RoleAssignment[]) =>
  repository.updateSubject(assignments[0]!.subjectId, () => ({
    saveAssignments: assignments,
    events: [],
    result: undefined,
  }));

/** Scoped and session-bound assignments: what every AuthzRepository must do with them. */
export function scopedAssignmentsContract(
  name: string,
  fresh: () => Promise<ContractSubject>,
): void {
  describe(`${name} repository contract: scopes and session bindings`, () => {
    it('keeps a role unscoped and on each scope apart, replacing one only on its own scope', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      const sessionId = aUserId();
      await save(
        repository,
        assignment(subjectId, 'player', { scope: guild('b') }),
        assignment(subjectId, 'player'),
        assignment(subjectId, 'player', { scope: guild('a'), expireTime: at(1_000) }),
        assignment(subjectId, 'guest', { scope: { type: 'clan', id: 'x y/z' } }),
      );
      await save(
        repository,
        assignment(subjectId, 'player', {
          scope: guild('a'),
          expireTime: at(2_000),
          boundSessionId: sessionId,
          createTime: at(5),
        }),
      );
      expect(await repository.assignmentsOf(subjectId)).toEqual([
        assignment(subjectId, 'guest', { scope: { type: 'clan', id: 'x y/z' } }),
        assignment(subjectId, 'player'),
        assignment(subjectId, 'player', {
          scope: guild('a'),
          expireTime: at(2_000),
          boundSessionId: sessionId,
          createTime: at(5),
        }),
        assignment(subjectId, 'player', { scope: guild('b') }),
      ]);
      // Saving again without a binding drops it.
      await save(repository, assignment(subjectId, 'player', { scope: guild('a') }));
      const [, , onA] = await repository.assignmentsOf(subjectId);
      expect(onA).toEqual(assignment(subjectId, 'player', { scope: guild('a') }));
    });

    it('deletes the assignment on the scope named, the unscoped one when none is', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await save(
        repository,
        assignment(subjectId, 'player'),
        assignment(subjectId, 'player', { scope: guild('1') }),
        assignment(subjectId, 'player', { scope: guild('2') }),
      );
      await repository.updateSubject(subjectId, () => ({
        deleteAssignments: [{ subjectId, role: 'player', scope: guild('1') }],
        events: [],
        result: undefined,
      }));
      await repository.updateSubject(subjectId, () => ({
        deleteAssignments: [{ subjectId, role: 'player' }],
        events: [],
        result: undefined,
      }));
      expect((await repository.assignmentsOf(subjectId)).map((a) => a.scope)).toEqual([guild('2')]);
    });

    it('counts only unscoped assignments as holders', async () => {
      const { repository } = await fresh();
      const scoped = aUserId();
      await save(repository, assignment(scoped, 'admin', { scope: guild('1') }));
      const held = (except?: { subjectId: string; role: string; scope?: Scope }) =>
        repository.updateCatalogue(async (state) => ({
          events: [],
          result: await state.hasActiveHolder(['admin'], T0, except),
        }));
      expect(await held()).toBe(false);
      const unscoped = aUserId();
      await save(repository, assignment(unscoped, 'admin'));
      expect(await held()).toBe(true);
      expect(await held({ subjectId: unscoped, role: 'admin' })).toBe(false);
      // Leaving out a scoped one leaves the unscoped holder counted.
      expect(await held({ subjectId: unscoped, role: 'admin', scope: guild('1') })).toBe(true);
    });

    it('lists by subject, role, then scope (unscoped first), filtered by scope, after a key with a scope', async () => {
      const { repository } = await fresh();
      const [a, b] = [aUserId(), aUserId()].sort();
      await save(
        repository,
        assignment(a!, 'player', { scope: guild('2') }),
        assignment(a!, 'player'),
        assignment(a!, 'player', { scope: guild('1') }),
      );
      await save(repository, assignment(b!, 'player', { scope: guild('1') }));
      await save(repository, assignment(b!, 'guest', { scope: guild('1'), expireTime: T0 }));
      const keys = (list: RoleAssignment[]) =>
        list.map((x) => [x.subjectId, x.role, x.scope?.id ?? '']);
      const all = await repository.listAssignments({ limit: 10, now: T0 });
      expect(keys(all.filter((x) => x.subjectId === a || x.subjectId === b))).toEqual([
        [a, 'player', ''],
        [a, 'player', '1'],
        [a, 'player', '2'],
        [b, 'player', '1'],
      ]);
      expect(
        keys(
          await repository.listAssignments({
            subjectId: a!,
            after: { subjectId: a!, role: 'player', scope: guild('1') },
            limit: 10,
            now: T0,
          }),
        ),
      ).toEqual([[a, 'player', '2']]);
      expect(
        keys(
          await repository.listAssignments({
            subjectId: a!,
            after: { subjectId: a!, role: 'player' },
            limit: 1,
            now: T0,
          }),
        ),
      ).toEqual([[a, 'player', '1']]);
      const onGuild1 = await repository.listAssignments({ scope: guild('1'), limit: 10, now: T0 });
      expect(keys(onGuild1.filter((x) => x.subjectId === a || x.subjectId === b))).toEqual([
        [a, 'player', '1'],
        [b, 'player', '1'],
      ]);
    });

    it('expires lapsed scoped assignments with their scope', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await save(
        repository,
        assignment(subjectId, 'player', { scope: guild('1'), expireTime: at(10) }),
        assignment(subjectId, 'player', { expireTime: at(20) }),
      );
      const lapsed = await repository.expireDue(at(15), 10, (x) =>
        roleRevoked(x, 'EXPIRED', x.expireTime!),
      );
      expect(lapsed).toEqual([
        assignment(subjectId, 'player', { scope: guild('1'), expireTime: at(10) }),
      ]);
      expect(await repository.assignmentsOf(subjectId)).toEqual([
        assignment(subjectId, 'player', { expireTime: at(20) }),
      ]);
    });

    it('ends a session once per receipt: records it, removes its bound grants with their events', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      const sessionId = aUserId();
      const otherSession = aUserId();
      const bound = { expireTime: at(60_000), boundSessionId: sessionId };
      await save(
        repository,
        assignment(subjectId, 'admin', bound),
        assignment(subjectId, 'guest', { ...bound, scope: guild('1') }),
        assignment(subjectId, 'player', { expireTime: at(60_000), boundSessionId: otherSession }),
        assignment(subjectId, 'player', { scope: guild('1') }),
      );
      const sessionEnded = (held: boolean) =>
        repository.updateSubject(
          subjectId,
          ({ sessionEnded }) => ({
            events: [],
            result: sessionEnded === held,
          }),
          { boundSession: sessionId },
        );
      expect(await sessionEnded(false)).toBe(true);
      const typesBefore = (await outboxTypes()).length;
      const end = () =>
        repository.endSession(
          { consumer: 'session-events', eventId: `ended-${sessionId}` },
          { sessionId, endTime: at(30) },
          at(31),
          (x) => roleRevoked(x, 'SESSION_ENDED', at(30)),
        );
      expect(await end()).toEqual([
        assignment(subjectId, 'admin', bound),
        assignment(subjectId, 'guest', { ...bound, scope: guild('1') }),
      ]);
      expect((await outboxTypes()).slice(typesBefore)).toEqual([
        'warden.authz.v1.role_revoked',
        'warden.authz.v1.role_revoked',
      ]);
      expect((await repository.assignmentsOf(subjectId)).map((x) => x.role)).toEqual([
        'player',
        'player',
      ]);
      expect(await sessionEnded(true)).toBe(true);
      expect(await end()).toBeUndefined();
      expect(await outboxTypes()).toHaveLength(typesBefore + 2);
      // Without the option, nothing is said about sessions.
      expect(
        await repository.updateSubject(subjectId, (state) => ({
          events: [],
          result: 'sessionEnded' in state,
        })),
      ).toBe(false);
    });

    it('forgets ended sessions recorded before a time, at most `limit` at once', async () => {
      const { repository } = await fresh();
      const sessions = [aUserId(), aUserId(), aUserId()];
      for (const [i, sessionId] of sessions.entries())
        await repository.endSession(
          { consumer: 'session-events', eventId: `forget-${sessionId}` },
          { sessionId, endTime: at(i) },
          at(1_000 + i),
          (x) => roleRevoked(x, 'SESSION_ENDED', at(i)),
        );
      expect(await repository.forgetEndedSessions(at(1_000), 10)).toBe(0);
      expect(await repository.forgetEndedSessions(at(1_002), 1)).toBe(1);
      expect(await repository.forgetEndedSessions(at(1_002), 10)).toBe(1);
      const stillEnded = await repository.updateSubject(
        aUserId(),
        ({ sessionEnded }) => ({ events: [], result: sessionEnded }),
        { boundSession: sessions[2]! },
      );
      expect(stillEnded).toBe(true);
    });

    it('assignOnce clears a binding of the unscoped assignment it replaces', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await save(
        repository,
        assignment(subjectId, 'player', { expireTime: at(60_000), boundSessionId: aUserId() }),
      );
      await repository.assignOnce(
        { consumer: 'user-events', eventId: `registered-${subjectId}` },
        [assignment(subjectId, 'player')],
        [],
      );
      expect(await repository.assignmentsOf(subjectId)).toEqual([assignment(subjectId, 'player')]);
    });
  });
}
