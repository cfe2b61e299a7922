import { describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../../adapters/memory/memory-authz-repository.js';
import { aUserId, T0 } from '../../../test/support/mothers.js';
import { PromoteExistingAdmins, type UserLookup } from './promote-existing-admins.js';

class FakeUserLookup implements UserLookup {
  readonly asked: string[] = [];
  constructor(private readonly users: Record<string, string>) {}
  async findUserIdByEmail(email: string): Promise<string | undefined> {
    this.asked.push(email);
    return this.users[email];
  }
}

const clock = { now: () => T0 };
const rolesOf = async (repository: MemoryAuthzRepository, subjectId: string) =>
  (await repository.listAssignments({ subjectId, limit: 10, now: T0 })).map((a) => a.role).sort();

describe('PromoteExistingAdmins', () => {
  it('makes an existing user with a bootstrap email an admin, announcing it', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    const promote = new PromoteExistingAdmins(
      repository,
      new FakeUserLookup({ 'ops@example.com': userId }),
      clock,
    );
    expect(await promote.run([' Ops@Example.com '])).toEqual([userId]);
    expect(await rolesOf(repository, userId)).toEqual(['admin']);
    expect(repository.outbox.map((e) => e.type)).toEqual(['role_assigned']);
  });

  it('does nothing for an unknown email or a user who already is admin', async () => {
    const repository = new MemoryAuthzRepository();
    const userId = aUserId();
    const lookup = new FakeUserLookup({ 'ops@example.com': userId });
    const promote = new PromoteExistingAdmins(repository, lookup, clock);
    await promote.run(['ops@example.com']);
    expect(await promote.run(['ops@example.com', 'nobody@example.com'])).toEqual([]);
    expect(repository.outbox).toHaveLength(1);
    expect(lookup.asked).toEqual(['ops@example.com', 'ops@example.com', 'nobody@example.com']);
  });

  it('lets a lookup failure surface, so the worker retries later', async () => {
    const failing: UserLookup = {
      findUserIdByEmail: async () => {
        throw new Error('user-service unavailable');
      },
    };
    const promote = new PromoteExistingAdmins(new MemoryAuthzRepository(), failing, clock);
    await expect(promote.run(['ops@example.com'])).rejects.toThrow(/unavailable/);
  });
});
