import { describe, expect, it } from 'vitest';
import type { AuthzRepository, AuthzChange, HolderQuery } from '../../src/application/ports.js';
import { newAssignment, type AuthzEvent, type RoleAssignment } from '../../src/domain/index.js';
import { aRole, aUserId, T0 } from './mothers.js';
import { seed } from './seed.js';

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

const revoked = (a: RoleAssignment): AuthzEvent => ({
  type: 'role_revoked',
  subjectId: a.subjectId,
  role: a.role,
  reason: 'EXPIRED',
  occurTime: a.expireTime!,
});
const nothing = <T>(result: T): AuthzChange<T> => ({ events: [], result });
/** Records `consumer` applied `eventId`: true when it had not yet (nothing else written). */
const markProcessed = async (repository: AuthzRepository, consumer: string, eventId: string) =>
  (await repository.updateSubject(aUserId(), () => nothing(true), {
    inbox: { consumer, eventId },
  })) ?? false;
const saveAssignments = (repository: AuthzRepository, ...assignments: RoleAssignment[]) =>
  repository.updateSubject(assignments[0]!.subjectId, () => ({
    saveAssignments: assignments,
    events: [],
    result: undefined,
  }));

/** What every AuthzRepository must do; run against the memory and the Prisma adapter. */
export function authzRepositoryContract(name: string, fresh: () => Promise<ContractSubject>): void {
  describe(`${name} repository contract`, () => {
    it('records each bootstrap grant once, whoever claims it, and lists the keys', async () => {
      const { repository } = await fresh();
      const first = aUserId();
      const grant = { entry: `user:${first}`, subjectId: first, grantTime: T0 };
      expect(await repository.bootstrapGrants()).toEqual([]);
      const claim = (subjectId: string, claimed: typeof grant) =>
        repository.updateSubject(subjectId, () => nothing(true), { claim: claimed });
      expect(await claim(first, grant)).toBe(true);
      const again = { entry: grant.entry, subjectId: aUserId(), grantTime: at(1) };
      expect(await claim(again.subjectId, again)).toBeUndefined();
      await expect(
        repository.updateSubject(
          first,
          () => {
            throw new Error('rolled back');
          },
          { claim: { entry: 'email-sha256:ab', subjectId: first, grantTime: T0 } },
        ),
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
        'user.manage_mfa:own',
        'user.read:own',
        'user.remove_mfa:own@aal2',
        'user.update:own',
      ]);
    });

    it('inserts, reads, updates and lists roles by name', async () => {
      const { repository } = await fresh();
      const role = aRole({ name: 'moderator', createTime: at(1), updateTime: at(1) });
      await repository.updateCatalogue(async () => ({ saveRoles: [role], ...nothing(undefined) }));
      expect(await repository.findRole('moderator')).toEqual(role);
      const changed = {
        ...role,
        description: 'changed',
        permissions: ['chat.*'],
        inherits: ['guest'],
        updateTime: at(2),
      };
      await repository.updateCatalogue(async ({ roles }) => {
        expect(roles.map((r) => r.name)).toContain('moderator');
        return { saveRoles: [changed], ...nothing(undefined) };
      });
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
      await seed(repository, {
        roles: [aRole({ name: 'temp' })],
        assignments: [
          newAssignment({ subjectId: userId, role: 'temp' }, T0),
          newAssignment({ subjectId: userId, role: 'guest' }, T0),
        ],
      });
      await repository.updateCatalogue(async () => ({
        deleteRoles: ['temp'],
        ...nothing(undefined),
      }));
      expect(await repository.findRole('temp')).toBeUndefined();
      expect((await repository.assignmentsOf(userId)).map((a) => a.role)).toEqual(['guest']);
    });

    it('saves an assignment, replacing expire_time and create_time when held already', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await saveAssignments(repository, {
        subjectId,
        role: 'player',
        expireTime: at(5000),
        createTime: at(0),
      });
      await saveAssignments(repository, { subjectId, role: 'player', createTime: at(10) });
      expect(await repository.assignmentsOf(subjectId)).toEqual([
        { subjectId, role: 'player', createTime: at(10) },
      ]);
    });

    it('refuses an assignment of a role that does not exist', async () => {
      const { repository } = await fresh();
      await expect(
        saveAssignments(repository, { subjectId: aUserId(), role: 'ghost', createTime: T0 }),
      ).rejects.toMatchObject({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' });
    });

    it("deletes one assignment; a catalogue change reads a subject's assignments", async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await saveAssignments(
        repository,
        { subjectId, role: 'guest', createTime: T0 },
        { subjectId, role: 'player', expireTime: at(1), createTime: T0 },
      );
      const revoke = () =>
        repository.updateCatalogue(async (state) => {
          const held = await state.assignmentsOf(subjectId);
          return { deleteAssignments: [{ subjectId, role: 'guest' }], ...nothing(held) };
        });
      expect((await revoke()).map((a) => a.role)).toEqual(['guest', 'player']);
      expect((await revoke()).map((a) => a.role)).toEqual(['player']);
    });

    it('tells whether anyone holds one of some roles, lapsed assignments left out', async () => {
      const { repository } = await fresh();
      const role = `keeper-${aUserId().slice(0, 8)}`;
      await seed(repository, { roles: [aRole({ name: role })] });
      const holds = (roles: string[], now: Date, except?: { subjectId: string; role: string }) =>
        repository.updateCatalogue(async (state) =>
          nothing(await state.hasActiveHolder(roles, now, except)),
        );
      expect(await holds([role, 'no-such-role'], T0)).toBe(false);
      const holder = aUserId();
      await seed(repository, {
        assignments: [
          { subjectId: holder, role, expireTime: at(100), createTime: T0 },
          { subjectId: aUserId(), role: 'guest', createTime: T0 },
        ],
      });
      expect(await holds([role, 'no-such-role'], at(99))).toBe(true);
      expect(await holds([role, 'no-such-role'], at(100))).toBe(false);
      expect(await holds([], T0)).toBe(false);
      // `except`: the assignment a change is about to take away does not count.
      expect(await holds([role], at(99), { subjectId: holder, role })).toBe(false);
      expect(await holds([role], at(99), { subjectId: holder, role: 'guest' })).toBe(true);
    });

    it("reads a subject's assignments by role, and deletes them all", async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      const other = aUserId();
      await seed(repository, {
        assignments: [
          { subjectId, role: 'player', createTime: T0 },
          { subjectId, role: 'admin', expireTime: at(9000), createTime: T0 },
          { subjectId: other, role: 'player', createTime: T0 },
        ],
      });
      const removed = await repository.updateSubject(subjectId, ({ held }) => ({
        deleteAssignments: held,
        ...nothing(held),
      }));
      expect(removed).toEqual([
        { subjectId, role: 'admin', expireTime: at(9000), createTime: T0 },
        { subjectId, role: 'player', createTime: T0 },
      ]);
      expect(await repository.assignmentsOf(subjectId)).toEqual([]);
      expect(await repository.assignmentsOf(other)).toHaveLength(1);
    });

    it('expires lapsed assignments, earliest first, at most `limit`, with their events', async () => {
      const { repository, outboxTypes } = await fresh();
      const [a, b, c, d] = [aUserId(), aUserId(), aUserId(), aUserId()];
      await seed(repository, {
        assignments: [
          { subjectId: a, role: 'guest', expireTime: at(300), createTime: T0 },
          { subjectId: b, role: 'guest', expireTime: at(100), createTime: T0 },
          { subjectId: c, role: 'guest', expireTime: at(200), createTime: T0 },
          { subjectId: d, role: 'guest', expireTime: at(5000), createTime: T0 },
        ],
      });
      const taken = await repository.expireDue(at(300), 2, revoked);
      expect(taken.map((x) => x.subjectId)).toEqual([b, c]);
      const rest = await repository.expireDue(at(300), 2, revoked);
      expect(rest.map((x) => x.subjectId)).toEqual([a]);
      expect(await repository.assignmentsOf(d)).toHaveLength(1);
      expect(await outboxTypes()).toEqual(Array(3).fill('warden.authz.v1.role_revoked'));
    });

    it('lists unexpired assignments by filter in (subject_id, role) order, after a key', async () => {
      const { repository } = await fresh();
      const subjects = [aUserId(), aUserId(), aUserId()].sort();
      await seed(repository, {
        assignments: [
          ...subjects.flatMap((subjectId) => [
            { subjectId, role: 'player', createTime: T0 },
            { subjectId, role: 'guest', createTime: T0 },
          ]),
          { subjectId: subjects[0]!, role: 'admin', expireTime: at(100), createTime: T0 },
        ],
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

    it('reads the holders of index slices: unexpired, ordered, each once, after a key', async () => {
      const { repository } = await fresh();
      const [a, b, c, d] = [aUserId(), aUserId(), aUserId(), aUserId()].sort() as [
        string,
        string,
        string,
        string,
      ];
      const guild = { type: 'guild', id: '42' };
      await seed(repository, {
        assignments: [
          { subjectId: a, role: 'player', createTime: T0 },
          { subjectId: a, role: 'guest', createTime: T0 }, // in two slices: listed once
          { subjectId: b, role: 'guest', scope: guild, createTime: T0 },
          { subjectId: c, role: 'guest', expireTime: at(100), createTime: T0 },
          { subjectId: d, role: 'player', scope: { type: 'guild', id: '7' }, createTime: T0 },
        ],
      });
      const slices = [
        { role: 'player' },
        { role: 'guest' },
        { role: 'guest', scope: guild },
        { role: 'player', scope: guild },
      ];
      const read = (query: Partial<HolderQuery>) =>
        repository.holdersOf({ slices, limit: 10, now: T0, ...query });
      expect(await read({})).toEqual([a, b, c]);
      expect(await read({ now: at(100) })).toEqual([a, b]);
      expect(await read({ after: a })).toEqual([b, c]);
      expect(await read({ limit: 2 })).toEqual([a, b]);
      // A slice limited to one subject (an :own grant's owner): that subject, when it holds it.
      const owned = [
        { role: 'guest', subjectId: c },
        { role: 'player', subjectId: b },
        { role: 'guest', scope: guild, subjectId: b },
      ];
      expect(await read({ slices: owned })).toEqual([b, c]);
      expect(await read({ slices: owned, after: b })).toEqual([c]);
    });

    it("reads the catalogue, and one subject's assignments (lapsed too) by role", async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await seed(repository, {
        assignments: [
          { subjectId, role: 'player', createTime: T0 },
          { subjectId, role: 'admin', expireTime: at(100), createTime: T0 },
          { subjectId: aUserId(), role: 'guest', createTime: T0 },
        ],
      });
      expect((await repository.allRoles()).map((r) => r.name).sort()).toEqual([
        'admin',
        'guest',
        'player',
      ]);
      expect(await repository.assignmentsOf(subjectId)).toEqual([
        { subjectId, role: 'admin', expireTime: at(100), createTime: T0 },
        { subjectId, role: 'player', createTime: T0 },
      ]);
    });

    it("reads several subjects' assignments in one read, each as assignmentsOf reads it", async () => {
      const { repository } = await fresh();
      const [a, b, none] = [aUserId(), aUserId(), aUserId()];
      await seed(repository, {
        assignments: [
          { subjectId: b, role: 'player', createTime: T0 },
          { subjectId: a, role: 'player', createTime: T0 },
          { subjectId: a, role: 'admin', expireTime: at(100), createTime: T0 },
          { subjectId: a, role: 'guest', scope: { type: 'guild', id: '7' }, createTime: T0 },
          { subjectId: aUserId(), role: 'guest', createTime: T0 },
        ],
      });
      const many = await repository.assignmentsOfMany!([a, none, b, a]);
      // A subject holding nothing is absent; one asked twice comes once.
      expect([...many.keys()].sort()).toEqual([a, b].sort());
      expect(many.get(a)).toEqual(await repository.assignmentsOf(a));
      expect(many.get(a)!.map((x) => x.role)).toEqual(['admin', 'guest', 'player']);
      expect(many.get(b)).toEqual([{ subjectId: b, role: 'player', createTime: T0 }]);
      expect((await repository.assignmentsOfMany!([none])).size).toBe(0);
    });

    it('records a processed event id once per consumer', async () => {
      const { repository } = await fresh();
      const eventId = aUserId();
      expect(await markProcessed(repository, 'c1', eventId)).toBe(true);
      expect(await markProcessed(repository, 'c1', eventId)).toBe(false);
      expect(await markProcessed(repository, 'c2', eventId)).toBe(true);
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
      expect(await markProcessed(repository, 'c1', eventId)).toBe(false);
      expect(await markProcessed(repository, 'c2', eventId)).toBe(true);
    });

    it('assignOnce replaces the times of an assignment already held', async () => {
      const { repository } = await fresh();
      const subjectId = aUserId();
      await seed(repository, {
        assignments: [{ subjectId, role: 'player', expireTime: at(5), createTime: T0 }],
      });
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
      expect(await markProcessed(repository, receipt.consumer, receipt.eventId)).toBe(true);
    });

    it('commits state and events together', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      await repository.updateSubject(subjectId, () => ({
        saveAssignments: [{ subjectId, role: 'player', createTime: T0 }],
        events: [assigned(subjectId, 'player')],
        result: undefined,
      }));
      expect(await outboxTypes()).toEqual(['warden.authz.v1.role_assigned']);
      expect((await repository.assignmentsOf(subjectId)).map((a) => a.role)).toEqual(['player']);
    });

    it('leaves nothing behind, inbox entry included, when the write fails half way', async () => {
      const { repository, outboxTypes } = await fresh();
      const subjectId = aUserId();
      await expect(
        repository.updateSubject(
          subjectId,
          () => ({
            saveRoles: [aRole({ name: 'doomed' })],
            // the role is saved first; the missing one fails the write after it
            saveAssignments: [
              { subjectId, role: 'doomed', createTime: T0 },
              { subjectId, role: 'ghost', createTime: T0 },
            ],
            events: [assigned(subjectId, 'doomed')],
            result: undefined,
          }),
          { inbox: { consumer: 'c1', eventId: 'event-1' } },
        ),
      ).rejects.toMatchObject({ reason: 'ROLE_NOT_FOUND' });
      expect(await repository.findRole('doomed')).toBeUndefined();
      expect(await repository.assignmentsOf(subjectId)).toEqual([]);
      expect(await outboxTypes()).toEqual([]);
      expect(await markProcessed(repository, 'c1', 'event-1')).toBe(true);
    });

    it('takes one revision per event of a write, in order, and none for a write without events', async () => {
      const { repository } = await fresh();
      const start = await repository.currentRevision();
      const [a, b] = [aUserId(), aUserId()];
      const events = [assigned(a, 'player'), assigned(a, 'guest')];
      await repository.updateSubject(a, () => ({
        saveAssignments: [
          { subjectId: a, role: 'player', createTime: T0 },
          { subjectId: a, role: 'guest', createTime: T0 },
        ],
        events,
        result: undefined,
      }));
      expect(events.map((e) => e.revision)).toEqual([start + 1, start + 2]);
      expect(await repository.currentRevision()).toBe(start + 2);

      await repository.updateSubject(b, () => nothing(undefined));
      expect(await repository.currentRevision()).toBe(start + 2);

      const once = [assigned(b, 'player')];
      const receipt = { consumer: 'c1', eventId: aUserId() };
      const wanted = [{ subjectId: b, role: 'player', createTime: T0 }];
      expect(await repository.assignOnce(receipt, wanted, once)).toBe(true);
      expect(once[0]!.revision).toBe(start + 3);
      // The duplicate writes nothing and takes nothing.
      expect(await repository.assignOnce(receipt, wanted, [assigned(b, 'player')])).toBe(false);
      expect(await repository.currentRevision()).toBe(start + 3);

      const catalogue: AuthzEvent[] = [
        { type: 'role_created', role: aRole({ name: 'counted' }), occurTime: T0 },
      ];
      await repository.updateCatalogue(async () => ({
        saveRoles: [aRole({ name: 'counted' })],
        events: catalogue,
        result: undefined,
      }));
      expect(catalogue[0]).toMatchObject({ revision: start + 4 });
      await seed(repository, {
        assignments: [{ subjectId: a, role: 'counted', expireTime: at(10), createTime: T0 }],
      });
      const afterSeed = await repository.currentRevision();
      expect(await repository.expireDue(at(10), 10, revoked)).toHaveLength(1);
      expect(await repository.currentRevision()).toBe(afterSeed + 1);
    });

    it('takes no revision for a write that fails, and leaves no gap', async () => {
      const { repository } = await fresh();
      const start = await repository.currentRevision();
      const subjectId = aUserId();
      await expect(
        repository.updateCatalogue(async () => {
          throw new Error('decided against');
        }),
      ).rejects.toThrow('decided against');
      await expect(
        repository.updateSubject(subjectId, () => ({
          saveAssignments: [{ subjectId, role: 'ghost', createTime: T0 }],
          events: [assigned(subjectId, 'ghost')],
          result: undefined,
        })),
      ).rejects.toMatchObject({ reason: 'ROLE_NOT_FOUND' });
      expect(await repository.currentRevision()).toBe(start);
      const next = [assigned(subjectId, 'player')];
      await repository.updateSubject(subjectId, () => ({
        saveAssignments: [{ subjectId, role: 'player', createTime: T0 }],
        events: next,
        result: undefined,
      }));
      expect(next[0]!.revision).toBe(start + 1);
    });
  });
}
