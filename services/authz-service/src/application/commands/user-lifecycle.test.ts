import { describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../../adapters/memory/memory-authz-repository.js';
import { FakeClock, aUserId } from '../../../test/support/mothers.js';
import { newAssignment } from '../../domain/index.js';
import { FakeUserLookup } from '../../../test/support/fake-user-lookup.js';
import { BootstrapAdmins, bootstrapEntries } from '../bootstrap-admins.js';
import { seed } from '../../../test/support/seed.js';
import { GiveDefaultRolesHandler } from './give-default-roles.js';
import { RemoveSubjectHandler } from './remove-subject.js';
import { SweepLapsedAssignments } from './sweep-lapsed-assignments.js';

const receipt = (eventId: string) => ({ consumer: 'authz-user-events', eventId });

function setUp(bootstrapAdmins: string[] = [], users: Record<string, string> = {}) {
  const clock = new FakeClock();
  const repository = new MemoryAuthzRepository();
  const lookup = new FakeUserLookup(users);
  const bootstrap = new BootstrapAdmins(bootstrapEntries(bootstrapAdmins), repository, lookup);
  const give = new GiveDefaultRolesHandler(repository, clock, { defaultRole: 'player' }, bootstrap);
  return { clock, repository, give, lookup, bootstrap };
}
const rolesOf = async (repository: MemoryAuthzRepository, userId: string) =>
  (await repository.assignmentsOf(userId)).map((a) => a.role);

describe('GiveDefaultRolesHandler', () => {
  it('gives a new user the default role, asking user-service nothing without bootstrap admins', async () => {
    const { repository, give, lookup } = setUp();
    const userId = aUserId();
    const events = await give.execute({ userId, inbox: receipt('e1') });
    expect(events.map((e) => e.type)).toEqual(['role_assigned']);
    expect(await rolesOf(repository, userId)).toEqual(['player']);
    expect(repository.outbox).toEqual(events);
    expect(lookup.asked).toEqual([]);
  });

  it('gives nothing twice for the same event', async () => {
    const { repository, give } = setUp();
    const userId = aUserId();
    await give.execute({ userId, inbox: receipt('e1') });
    const again = await give.execute({ userId, inbox: receipt('e1') });
    expect(again).toEqual([]);
    expect(repository.outbox).toHaveLength(1);
  });

  it('writes nothing, not even the receipt, when the default role is gone', async () => {
    const { clock, repository } = setUp();
    const give = new GiveDefaultRolesHandler(repository, clock, { defaultRole: 'vanished' });
    const userId = aUserId();
    await expect(give.execute({ userId, inbox: receipt('e1') })).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
    expect(await repository.assignmentsOf(userId)).toEqual([]);
    expect(repository.outbox).toEqual([]);
    const player = new GiveDefaultRolesHandler(repository, clock, { defaultRole: 'player' });
    expect(await player.execute({ userId, inbox: receipt('e1') })).toHaveLength(1);
  });

  it('makes a bootstrap admin (email asked of user-service, any case) an admin, and records the grant', async () => {
    const userId = aUserId();
    const { repository, give, lookup } = setUp(['Root@Example.com'], {
      'root@example.com': userId,
    });
    const events = await give.execute({ userId, inbox: receipt('e1') });
    expect(events.map((e) => e.type)).toEqual(['role_assigned', 'role_assigned']);
    expect(await rolesOf(repository, userId)).toEqual(['admin', 'player']);
    expect(lookup.asked).toEqual(['email:root@example.com']);
    const [grant] = await repository.bootstrapGrants();
    expect(grant).toMatch(/^email-sha256:[0-9a-f]{64}$/);
    expect(grant).not.toContain('root');
  });

  it('grants a bootstrap email once: a deleted and re-registered address gets only the default role, unasked', async () => {
    const first = aUserId();
    const { repository, give, lookup } = setUp(['root@example.com'], {
      'root@example.com': first,
    });
    await give.execute({ userId: first, inbox: receipt('e1') });
    lookup.set('root@example.com', undefined);
    const second = aUserId();
    lookup.set('root@example.com', second);
    await give.execute({ userId: second, inbox: receipt('e2') });
    expect(await rolesOf(repository, second)).toEqual(['player']);
    // Every entry is granted now: later registrations cost no lookup.
    expect(lookup.asked).toEqual(['email:root@example.com']);
  });

  it('grants a bootstrap user id on its registration, without a lookup, once', async () => {
    const userId = aUserId();
    const { repository, give, lookup } = setUp([userId.toUpperCase()]);
    await give.execute({ userId, inbox: receipt('e1') });
    expect(await rolesOf(repository, userId)).toEqual(['admin', 'player']);
    expect(await repository.bootstrapGrants()).toEqual([`user:${userId}`]);
    expect(lookup.asked).toEqual([]);
  });

  it('does not grant when the claim was lost to another worker (the record decides)', async () => {
    const userId = aUserId();
    const other = aUserId();
    const { repository, give, bootstrap } = setUp([userId]);
    expect(await bootstrap.ungranted()).toHaveLength(1); // this worker has not seen the grant
    const grant = { entry: `user:${userId}`, subjectId: other, grantTime: new Date() };
    await repository.updateSubject(other, () => ({ events: [], result: undefined }), {
      claim: grant,
    });
    await give.execute({ userId, inbox: receipt('e1') });
    expect(await rolesOf(repository, userId)).toEqual(['player']);
  });

  it('gives only the default role to a user whose email is not listed, or who is gone already', async () => {
    const listed = aUserId();
    const { repository, give } = setUp(['root@example.com'], { 'ann@example.com': listed });
    await give.execute({ userId: listed, inbox: receipt('e1') });
    const gone = aUserId();
    await give.execute({ userId: gone, inbox: receipt('e2') });
    expect(await rolesOf(repository, listed)).toEqual(['player']);
    expect(await rolesOf(repository, gone)).toEqual(['player']);
    expect(await repository.bootstrapGrants()).toEqual([]);
  });

  it('lets a failed lookup surface after the default role; the redelivered event retries only the grant', async () => {
    const userId = aUserId();
    const { repository, give, lookup } = setUp(['root@example.com'], {
      'root@example.com': userId,
    });
    lookup.failure = new Error('user-service unavailable');
    await expect(give.execute({ userId, inbox: receipt('e1') })).rejects.toThrow(/unavailable/);
    expect(await rolesOf(repository, userId)).toEqual(['player']);
    expect(await repository.bootstrapGrants()).toEqual([]);
    lookup.failure = undefined;
    const retried = await give.execute({ userId, inbox: receipt('e1') });
    expect(retried.map((e) => e.type === 'role_assigned' && e.assignment.role)).toEqual(['admin']);
    expect(await rolesOf(repository, userId)).toEqual(['admin', 'player']);
    expect(await give.execute({ userId, inbox: receipt('e1') })).toEqual([]);
  });

  it('refuses a user id that is not one', async () => {
    const { give } = setUp();
    await expect(give.execute({ userId: 'nope', inbox: receipt('e1') })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
    });
  });
});

describe('RemoveSubjectHandler', () => {
  it("removes a deleted user's assignments, one RoleRevoked (SUBJECT_DELETED) each", async () => {
    const { clock, repository } = setUp();
    const userId = aUserId();
    await seed(repository, {
      assignments: [
        newAssignment({ subjectId: userId, role: 'player' }, clock.now()),
        newAssignment({ subjectId: userId, role: 'admin' }, clock.now()),
      ],
    });
    const remove = new RemoveSubjectHandler(repository, clock);
    const events = await remove.execute({ userId, inbox: receipt('e9') });
    expect(events).toEqual([
      {
        type: 'role_revoked',
        subjectId: userId,
        role: 'admin',
        reason: 'SUBJECT_DELETED',
        occurTime: clock.now(),
        revision: 1,
      },
      {
        type: 'role_revoked',
        subjectId: userId,
        role: 'player',
        reason: 'SUBJECT_DELETED',
        occurTime: clock.now(),
        revision: 2, // one revision per event of the write
      },
    ]);
    expect(await repository.assignmentsOf(userId)).toEqual([]);
    expect(repository.outbox).toEqual(events);
    // The same event again writes nothing.
    expect(await remove.execute({ userId, inbox: receipt('e9') })).toBeUndefined();
    expect(repository.outbox).toHaveLength(2);
  });
});

describe('SweepLapsedAssignments', () => {
  it('removes lapsed grants in batches, announcing each as EXPIRED at its expire_time', async () => {
    const { clock, repository } = setUp();
    const expireTime = new Date(clock.now().getTime() + 1000);
    const lapsing = [aUserId(), aUserId(), aUserId()];
    const keeper = aUserId();
    await seed(repository, {
      assignments: [
        ...lapsing.map((subjectId) =>
          newAssignment({ subjectId, role: 'admin', expireTime }, clock.now()),
        ),
        newAssignment({ subjectId: keeper, role: 'admin' }, clock.now()),
      ],
    });
    const sweeper = new SweepLapsedAssignments(repository, clock, 2);

    expect(await sweeper.sweep()).toBe(0);
    clock.advance(1000);
    expect(await sweeper.sweep()).toBe(3);

    const revoked = repository.outbox.filter((e) => e.type === 'role_revoked');
    expect(revoked).toHaveLength(3);
    expect(
      revoked.every(
        (e) =>
          e.type === 'role_revoked' &&
          e.reason === 'EXPIRED' &&
          e.occurTime.getTime() === expireTime.getTime(),
      ),
    ).toBe(true);
    expect((await repository.assignmentsOf(keeper)).map((a) => a.role)).toEqual(['admin']);
  });
});
