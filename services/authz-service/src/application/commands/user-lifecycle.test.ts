import { describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../../adapters/memory/memory-authz-repository.js';
import { FakeClock, aUserId } from '../../../test/support/mothers.js';
import { newAssignment } from '../../domain/index.js';
import { GiveDefaultRoles } from './give-default-roles.js';
import { RemoveSubject } from './remove-subject.js';
import { SweepLapsedAssignments } from './sweep-lapsed-assignments.js';

const receipt = (eventId: string) => ({ consumer: 'authz-user-events', eventId });

function setUp(bootstrapAdmins: string[] = []) {
  const clock = new FakeClock();
  const repository = new MemoryAuthzRepository();
  const give = new GiveDefaultRoles(clock, { defaultRole: 'player', bootstrapAdmins });
  return { clock, repository, give };
}

describe('GiveDefaultRoles', () => {
  it('gives a new user the default role', async () => {
    const { repository, give } = setUp();
    const userId = aUserId();
    const events = await give.apply(repository, receipt('e1'), {
      userId,
      email: 'ann@example.com',
    });
    expect(events.map((e) => e.type)).toEqual(['role_assigned']);
    expect((await repository.assignmentsOf(userId)).map((a) => a.role)).toEqual(['player']);
    expect(repository.outbox).toEqual(events);
  });

  it('gives nothing twice for the same event', async () => {
    const { repository, give } = setUp();
    const userId = aUserId();
    await give.apply(repository, receipt('e1'), { userId, email: 'ann@example.com' });
    const again = await give.apply(repository, receipt('e1'), { userId, email: 'ann@example.com' });
    expect(again).toEqual([]);
    expect(repository.outbox).toHaveLength(1);
  });

  it('writes nothing, not even the receipt, when the default role is gone', async () => {
    const { clock, repository } = setUp();
    const give = new GiveDefaultRoles(clock, { defaultRole: 'vanished', bootstrapAdmins: [] });
    const userId = aUserId();
    await expect(
      give.apply(repository, receipt('e1'), { userId, email: 'ann@example.com' }),
    ).rejects.toMatchObject({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' });
    expect(await repository.assignmentsOf(userId)).toEqual([]);
    expect(repository.outbox).toEqual([]);
    const player = new GiveDefaultRoles(clock, { defaultRole: 'player', bootstrapAdmins: [] });
    expect(await player.apply(repository, receipt('e1'), { userId, email: 'a@b.c' })).toHaveLength(
      1,
    );
  });

  it('also makes a bootstrap admin an admin, whatever the email case', async () => {
    const { repository, give } = setUp(['Root@Example.com']);
    const userId = aUserId();
    await give.apply(repository, receipt('e1'), { userId, email: ' root@EXAMPLE.com' });
    expect((await repository.assignmentsOf(userId)).map((a) => a.role)).toEqual([
      'admin',
      'player',
    ]);
  });

  it('refuses a user id that is not one', async () => {
    const { repository, give } = setUp();
    await expect(
      give.apply(repository, receipt('e1'), { userId: 'nope', email: 'a@b.c' }),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
    });
  });
});

describe('RemoveSubject', () => {
  it("removes a deleted user's assignments, one RoleRevoked (SUBJECT_DELETED) each", async () => {
    const { clock, repository } = setUp();
    const userId = aUserId();
    await repository.transaction(async (tx) => {
      await tx.saveAssignment(newAssignment({ subjectId: userId, role: 'player' }, clock.now()));
      await tx.saveAssignment(newAssignment({ subjectId: userId, role: 'admin' }, clock.now()));
    });
    const events = await repository.transaction((tx) =>
      new RemoveSubject(clock).applyIn(tx, userId),
    );
    expect(events).toEqual([
      {
        type: 'role_revoked',
        subjectId: userId,
        role: 'admin',
        reason: 'SUBJECT_DELETED',
        occurTime: clock.now(),
      },
      {
        type: 'role_revoked',
        subjectId: userId,
        role: 'player',
        reason: 'SUBJECT_DELETED',
        occurTime: clock.now(),
      },
    ]);
    expect(await repository.assignmentsOf(userId)).toEqual([]);
  });
});

describe('SweepLapsedAssignments', () => {
  it('removes lapsed grants in batches, announcing each as EXPIRED at its expire_time', async () => {
    const { clock, repository } = setUp();
    const expireTime = new Date(clock.now().getTime() + 1000);
    const lapsing = [aUserId(), aUserId(), aUserId()];
    const keeper = aUserId();
    await repository.transaction(async (tx) => {
      for (const subjectId of lapsing)
        await tx.saveAssignment(
          newAssignment({ subjectId, role: 'admin', expireTime }, clock.now()),
        );
      await tx.saveAssignment(newAssignment({ subjectId: keeper, role: 'admin' }, clock.now()));
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
