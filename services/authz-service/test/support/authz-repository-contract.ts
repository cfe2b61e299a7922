import { describe, expect, it } from 'vitest';
import type { AuthzRepository } from '../../src/application/ports.js';
import { newAssignment, type AuthzEvent } from '../../src/domain/index.js';
import { aRole, aUserId, T0 } from './mothers.js';

export interface ContractSubject {
  repository: AuthzRepository;
  /** Event types committed to the outbox, in order. */
  outboxTypes(): Promise<string[]>;
}

const at = (ms: number) => new Date(T0.getTime() + ms);
const assigned = (subjectId: string, role: string): AuthzEvent => ({
  type: 'role_assigned',
  assignment: { subjectId, role, createTime: T0 },
  occurTime: T0,
});

/** What every AuthzRepository must do; run against the memory and the Prisma adapter. */
export function authzRepositoryContract(name: string, fresh: () => Promise<ContractSubject>): void {
  describe(`${name} repository contract`, () => {
    it('records each bootstrap grant once, whoever claims it, and lists the keys', async () => {
      const { repository } = await fresh();
      const first = aUserId();
      const grant = { entry: `user:${first}`, subjectId: first, grantTime: T0 };
      expect(await repository.bootstrapGrants()).toEqual([]);
      expect(await repository.transaction((tx) => tx.claimBootstrapGrant(grant))).toBe(true);
      const again = { entry: grant.entry, subjectId: aUserId(), grantTime: at(1) };
      expect(await repository.transaction((tx) => tx.claimBootstrapGrant(again))).toBe(false);
      await expect(
        repository.transaction(async (tx) => {
          await tx.claimBootstrapGrant({
            entry: 'email-sha256:ab',
            subjectId: first,
            grantTime: T0,
          });
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(await repository.bootstrapGrants()).toEqual([grant.entry]);
    });

    it('starts with the built-in roles', async () => {
      const { repository } = await fresh();
      const roles = await repository.listRoles({ limit: 10 });
      expect(roles.map((r) => [r.name, r.builtIn, r.inherits])).toEqual([
        ['admin', true, []],
        ['guest', true, []],
        ['player', true, ['guest']],
      ]);
      expect(roles[0]!.permissions).toEqual(['*']);
      expect(roles[2]!.permissions).toEqual([
        'game.join',
        'permission.read:own',
        'session.create',
        'session.end:own',
        'session.list:own',
        'session.read:own',
        'user.change_password:own',
        'user.read:own',
        'user.update:own',
      ]);
    });

    it('inserts, reads, updates and lists roles by name', async () => {
      const { repository } = await fresh();
      const role = aRole({ name: 'moderator', createTime: at(1), updateTime: at(1) });
      await repository.transaction(async (tx) => {
        await tx.lockCatalogue();
        await tx.insertRole(role);
      });
      expect(await repository.findRole('moderator')).toEqual(role);
      const changed = {
        ...role,
        description: 'changed',
        permissions: ['chat.*'],
        inherits: ['guest'],
        updateTime: at(2),
      };
      await repository.transaction((tx) => tx.updateRole(changed));
      expect(await repository.findRole('moderator')).toEqual(changed);
      expect(
        (await repository.listRoles({ afterName: 'guest', limit: 10 })).map((r) => r.name),
      ).toEqual(['moderator', 'player']);
      expect((await repository.allRoles()).length).toBe(4);
      expect(await repository.findRole('ghost')).toBeUndefined();
    });

    it('deletes a role together with its assignments', async () => {
      const { repository } = await fresh();
      const userId = aUserId();
      await repository.transaction(async (tx) => {
        await tx.insertRole(aRole({ name: 'temp' }));
        await tx.saveAssignment(newAssignment({ subjectId: userId, role: 'temp' }, T0));
        await tx.saveAssignment(newAssignment({ subjectId: userId, role: 'guest' }, T0));
      });
      await repository.transaction((tx) => tx.deleteRole('temp'));
      expect(await repository.findRole('temp')).toBeUndefined();
      expect((await repository.assignmentsOf(userId)).map((a) => a.role)).toEqual(['guest']);
    });

    it('saves an assignment, replacing expire_time and create_time when held already', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await repository.transaction((tx) =>
        tx.saveAssignment({ subjectId, role: 'player', expireTime: at(5000), createTime: at(0) }),
      );
      await repository.transaction((tx) =>
        tx.saveAssignment({ subjectId, role: 'player', createTime: at(10) }),
      );
      expect(await repository.assignmentsOf(subjectId)).toEqual([
        { subjectId, role: 'player', createTime: at(10) },
      ]);
    });

    it('refuses an assignment of a role that does not exist', async () => {
      const { repository } = await fresh();
      await expect(
        repository.transaction((tx) =>
          tx.saveAssignment({ subjectId: aUserId(), role: 'ghost', createTime: T0 }),
        ),
      ).rejects.toMatchObject({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' });
    });

    it('deletes one assignment, saying whether there was one', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await repository.transaction((tx) =>
        tx.saveAssignment({ subjectId, role: 'guest', createTime: T0 }),
      );
      expect(
        await repository.transaction((tx) => tx.deleteAssignment({ subjectId, role: 'guest' })),
      ).toBe(true);
      expect(
        await repository.transaction((tx) => tx.deleteAssignment({ subjectId, role: 'guest' })),
      ).toBe(false);
    });

    it('tells whether anyone holds one of some roles, lapsed assignments left out', async () => {
      const { repository } = await fresh();
      const role = `keeper-${aUserId().slice(0, 8)}`;
      await repository.transaction((tx) => tx.insertRole(aRole({ name: role })));
      const holds = (now: Date) =>
        repository.transaction((tx) => tx.hasActiveHolder([role, 'no-such-role'], now));
      expect(await holds(T0)).toBe(false);
      await repository.transaction(async (tx) => {
        await tx.saveAssignment({
          subjectId: aUserId(),
          role,
          expireTime: at(100),
          createTime: T0,
        });
        await tx.saveAssignment({ subjectId: aUserId(), role: 'guest', createTime: T0 });
      });
      expect(await holds(at(99))).toBe(true);
      expect(await holds(at(100))).toBe(false);
      expect(await repository.transaction((tx) => tx.hasActiveHolder([], T0))).toBe(false);
    });

    it("deletes all of a subject's assignments and returns them by role", async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      const other = aUserId();
      await repository.transaction(async (tx) => {
        await tx.saveAssignment({ subjectId, role: 'player', createTime: T0 });
        await tx.saveAssignment({ subjectId, role: 'admin', expireTime: at(9000), createTime: T0 });
        await tx.saveAssignment({ subjectId: other, role: 'player', createTime: T0 });
      });
      const removed = await repository.transaction((tx) => tx.deleteAssignmentsOf(subjectId));
      expect(removed).toEqual([
        { subjectId, role: 'admin', expireTime: at(9000), createTime: T0 },
        { subjectId, role: 'player', createTime: T0 },
      ]);
      expect(await repository.assignmentsOf(subjectId)).toEqual([]);
      expect(await repository.assignmentsOf(other)).toHaveLength(1);
    });

    it('takes lapsed assignments, earliest first, at most `limit`', async () => {
      const { repository } = await fresh();
      const [a, b, c, d] = [aUserId(), aUserId(), aUserId(), aUserId()];
      await repository.transaction(async (tx) => {
        await tx.saveAssignment({
          subjectId: a,
          role: 'guest',
          expireTime: at(300),
          createTime: T0,
        });
        await tx.saveAssignment({
          subjectId: b,
          role: 'guest',
          expireTime: at(100),
          createTime: T0,
        });
        await tx.saveAssignment({
          subjectId: c,
          role: 'guest',
          expireTime: at(200),
          createTime: T0,
        });
        await tx.saveAssignment({
          subjectId: d,
          role: 'guest',
          expireTime: at(5000),
          createTime: T0,
        });
      });
      const taken = await repository.transaction((tx) => tx.takeLapsedAssignments(at(300), 2));
      expect(taken.map((x) => x.subjectId)).toEqual([b, c]);
      const rest = await repository.transaction((tx) => tx.takeLapsedAssignments(at(300), 2));
      expect(rest.map((x) => x.subjectId)).toEqual([a]);
      expect(await repository.assignmentsOf(d)).toHaveLength(1);
    });

    it('lists unexpired assignments by filter in (subject_id, role) order, after a key', async () => {
      const { repository } = await fresh();
      const subjects = [aUserId(), aUserId(), aUserId()].sort();
      await repository.transaction(async (tx) => {
        for (const subjectId of subjects) {
          await tx.saveAssignment({ subjectId, role: 'player', createTime: T0 });
          await tx.saveAssignment({ subjectId, role: 'guest', createTime: T0 });
        }
        await tx.saveAssignment({
          subjectId: subjects[0]!,
          role: 'admin',
          expireTime: at(100),
          createTime: T0,
        });
      });
      const all = await repository.listAssignments({ limit: 100, now: at(100) });
      const mine = all
        .filter((x) => subjects.includes(x.subjectId))
        .map((x) => `${subjects.indexOf(x.subjectId)}:${x.role}`);
      expect(mine).toEqual(['0:guest', '0:player', '1:guest', '1:player', '2:guest', '2:player']);

      const page = await repository.listAssignments({
        role: 'player',
        after: { subjectId: subjects[0]!, role: 'player' },
        limit: 1,
        now: T0,
      });
      expect(page.map((x) => x.subjectId)).toEqual([subjects[1]]);
      const one = await repository.listAssignments({
        subjectId: subjects[2]!,
        after: { subjectId: subjects[2]!, role: 'guest' },
        limit: 5,
        now: T0,
      });
      expect(one.map((x) => x.role)).toEqual(['player']);
      const live = await repository.listAssignments({
        subjectId: subjects[0]!,
        limit: 5,
        now: at(99),
      });
      expect(live.map((x) => x.role)).toEqual(['admin', 'guest', 'player']);
    });

    it('gives a snapshot of roles and unexpired assignments', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await repository.transaction(async (tx) => {
        await tx.saveAssignment({ subjectId, role: 'player', createTime: T0 });
        await tx.saveAssignment({ subjectId, role: 'admin', expireTime: at(100), createTime: T0 });
      });
      const snapshot = await repository.snapshot(at(100));
      expect(snapshot.roles.map((r) => r.name).sort()).toEqual(['admin', 'guest', 'player']);
      expect(
        snapshot.assignments.filter((a) => a.subjectId === subjectId).map((a) => a.role),
      ).toEqual(['player']);
    });

    it('records a processed event id once per consumer', async () => {
      const { repository } = await fresh();
      const eventId = aUserId();
      expect(await repository.transaction((tx) => tx.markProcessed('c1', eventId))).toBe(true);
      expect(await repository.transaction((tx) => tx.markProcessed('c1', eventId))).toBe(false);
      expect(await repository.transaction((tx) => tx.markProcessed('c2', eventId))).toBe(true);
    });

    it('assigns once per receipt: assignments, events and receipt together', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      const eventId = aUserId();
      const wanted = [
        { subjectId, role: 'player', createTime: T0 },
        { subjectId, role: 'admin', createTime: T0 },
      ];
      const events = wanted.map((a) => assigned(a.subjectId, a.role));

      expect(await repository.assignOnce({ consumer: 'c1', eventId }, wanted, events)).toBe(true);
      expect(await repository.assignOnce({ consumer: 'c1', eventId }, wanted, events)).toBe(false);

      expect((await repository.assignmentsOf(subjectId)).map((a) => a.role)).toEqual([
        'admin',
        'player',
      ]);
      expect(await outboxTypes()).toEqual([
        'warden.authz.v1.role_assigned',
        'warden.authz.v1.role_assigned',
      ]);
      expect(await repository.transaction((tx) => tx.markProcessed('c1', eventId))).toBe(false);
      expect(await repository.transaction((tx) => tx.markProcessed('c2', eventId))).toBe(true);
    });

    it('assignOnce replaces the times of an assignment already held', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await repository.transaction((tx) =>
        tx.saveAssignment({ subjectId, role: 'player', expireTime: at(5), createTime: T0 }),
      );
      const renewed = { subjectId, role: 'player', createTime: at(1) };
      await repository.assignOnce({ consumer: 'c1', eventId: aUserId() }, [renewed], []);
      expect(await repository.assignmentsOf(subjectId)).toEqual([renewed]);
    });

    it('assignOnce writes nothing, receipt included, when one of the roles is missing', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      const receipt = { consumer: 'c1', eventId: aUserId() };
      const wanted = [
        { subjectId, role: 'player', createTime: T0 },
        { subjectId, role: 'ghost', createTime: T0 },
      ];
      await expect(
        repository.assignOnce(
          receipt,
          wanted,
          wanted.map((a) => assigned(a.subjectId, a.role)),
        ),
      ).rejects.toMatchObject({
        kind: 'NOT_FOUND',
        reason: 'ROLE_NOT_FOUND',
        metadata: { role: 'ghost' },
      });
      expect(await repository.assignmentsOf(subjectId)).toEqual([]);
      expect(await outboxTypes()).toEqual([]);
      expect(
        await repository.transaction((tx) => tx.markProcessed(receipt.consumer, receipt.eventId)),
      ).toBe(true);
    });

    it('commits state and events together', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      await repository.transaction(async (tx) => {
        await tx.saveAssignment({ subjectId, role: 'player', createTime: T0 });
        await tx.record([assigned(subjectId, 'player')]);
      });
      expect(await outboxTypes()).toEqual(['warden.authz.v1.role_assigned']);
    });

    it('leaves nothing behind when the transaction fails', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      await expect(
        repository.transaction(async (tx) => {
          await tx.insertRole(aRole({ name: 'doomed' }));
          await tx.saveAssignment({ subjectId, role: 'doomed', createTime: T0 });
          await tx.markProcessed('c1', 'event-1');
          await tx.record([assigned(subjectId, 'doomed')]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await repository.findRole('doomed')).toBeUndefined();
      expect(await repository.assignmentsOf(subjectId)).toEqual([]);
      expect(await outboxTypes()).toEqual([]);
      expect(await repository.transaction((tx) => tx.markProcessed('c1', 'event-1'))).toBe(true);
    });
  });
}
