import { describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../../adapters/memory/memory-authz-repository.js';
import { FakeUserLookup } from '../../../test/support/fake-user-lookup.js';
import { aUserId, T0 } from '../../../test/support/mothers.js';
import { seed } from '../../../test/support/seed.js';
import { newAssignment } from '../../domain/index.js';
import { BootstrapAdmins, bootstrapEntries } from '../bootstrap-admins.js';
import { PromoteExistingAdmins } from './promote-existing-admins.js';

const clock = { now: () => T0 };
const rolesOf = async (repository: MemoryAuthzRepository, subjectId: string) =>
  (await repository.listAssignments({ subjectId, limit: 10, now: T0 })).map((a) => a.role).sort();

/** A worker start: a fresh process (nothing remembered) over the same database. */
function start(repository: MemoryAuthzRepository, lookup: FakeUserLookup, entries: string[]) {
  const bootstrap = new BootstrapAdmins(bootstrapEntries(entries), repository, lookup);
  return new PromoteExistingAdmins(repository, bootstrap, clock);
}

describe('PromoteExistingAdmins', () => {
  it('makes an existing user with a bootstrap email an admin, announcing and recording it', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    const lookup = new FakeUserLookup({ 'ops@example.com': userId });
    expect(await start(repository, lookup, [' Ops@Example.com ']).run()).toEqual([userId]);
    expect(await rolesOf(repository, userId)).toEqual(['admin']);
    expect(repository.outbox.map((e) => e.type)).toEqual(['role_assigned']);
    expect(await repository.bootstrapGrants()).toHaveLength(1);
  });

  it('makes an existing user listed by id an admin; an id of no user is left for later', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    const unknown = aUserId();
    const lookup = new FakeUserLookup({ 'ann@example.com': userId });
    expect(await start(repository, lookup, [userId, unknown]).run()).toEqual([userId]);
    expect(await repository.bootstrapGrants()).toEqual([`user:${userId}`]);
  });

  it('never grants again after a restart: a revocation sticks, and nothing is looked up', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    const lookup = new FakeUserLookup({ 'ops@example.com': userId });
    await start(repository, lookup, ['ops@example.com']).run();
    await repository.updateSubject(userId, () => ({
      deleteAssignments: [{ subjectId: userId, role: 'admin' }],
      events: [],
      result: undefined,
    }));
    expect(await start(repository, lookup, ['ops@example.com']).run()).toEqual([]);
    expect(await rolesOf(repository, userId)).toEqual([]);
    expect(lookup.asked).toEqual(['email:ops@example.com']);
  });

  it('records a user who holds admin already without assigning it again', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    await seed(repository, {
      assignments: [newAssignment({ subjectId: userId, role: 'admin' }, T0)],
    });
    const lookup = new FakeUserLookup({ 'ops@example.com': userId });
    expect(
      await start(repository, lookup, ['ops@example.com', 'nobody@example.com']).run(),
    ).toEqual([]);
    expect(repository.outbox).toEqual([]);
    expect(await repository.bootstrapGrants()).toHaveLength(1);
  });

  it('lets a lookup failure surface, with nothing recorded, so the worker retries later', async () => {
    const repository = new MemoryAuthzRepository();
    const lookup = new FakeUserLookup({ 'ops@example.com': aUserId() });
    lookup.failure = new Error('user-service unavailable');
    await expect(start(repository, lookup, ['ops@example.com']).run()).rejects.toThrow(
      /unavailable/,
    );
    expect(await repository.bootstrapGrants()).toEqual([]);
  });
});
