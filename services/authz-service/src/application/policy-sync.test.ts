import { describe, expect, it } from 'vitest';
import { aRole, anAssignment, aUserId, FakeClock, T0 } from '../../test/support/mothers.js';
import { builtInRoles, type Role, type RoleAssignment } from '../domain/index.js';
import { PolicyModel } from './policy-model.js';
import { PolicySync } from './policy-sync.js';
import type { PolicySnapshot, PolicySource } from './ports.js';

/** A policy source whose answers the test releases one by one, in any order. */
class ScriptedSource implements PolicySource {
  readonly pending: Array<{ what: string; release: () => void }> = [];
  roles: Role[] = builtInRoles(T0);
  assignments: RoleAssignment[] = [];

  snapshot(): Promise<PolicySnapshot> {
    return this.later('snapshot', () => ({ roles: this.roles, assignments: this.assignments }));
  }
  allRoles(): Promise<Role[]> {
    return this.later('roles', () => this.roles);
  }
  assignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    return this.later(`subject ${subjectId}`, () =>
      this.assignments.filter((a) => a.subjectId === subjectId),
    );
  }

  /** Reads the state when called (like a query), answers when released. */
  private later<T>(what: string, read: () => T): Promise<T> {
    const value = read();
    return new Promise((resolve) => this.pending.push({ what, release: () => resolve(value) }));
  }

  async release(index: number): Promise<void> {
    this.pending.splice(index, 1)[0]!.release();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function setUp(source = new ScriptedSource()) {
  const model = new PolicyModel(new FakeClock());
  const errors: unknown[] = [];
  const sync = new PolicySync(model, source, new FakeClock(), (error) => errors.push(error));
  return { source, model, sync, errors };
}

describe('PolicySync', () => {
  it('loads everything, then follows changes one subject at a time', async () => {
    const { source, model, sync } = setUp();
    const userId = aUserId();
    source.assignments = [anAssignment({ subjectId: userId, role: 'player' })];
    const loading = sync.loadAll();
    await source.release(0);
    await loading;
    expect(model.decide(userId, 'game.join').allowed).toBe(true);

    source.assignments = [];
    const changing = sync.changed([{ kind: 'subject', subjectId: userId }]);
    await source.release(0);
    await changing;
    expect(model.decide(userId, 'game.join').allowed).toBe(false);
  });

  it('drops a read that finishes after a newer one', async () => {
    const { source, model, sync } = setUp();
    const userId = aUserId();
    const loading = sync.loadAll();
    await source.release(0);
    await loading;
    const older = sync.changed([{ kind: 'subject', subjectId: userId }]); // reads: no roles
    source.assignments = [anAssignment({ subjectId: userId, role: 'admin' })];
    const newer = sync.changed([{ kind: 'subject', subjectId: userId }]); // reads: admin
    await source.release(1);
    await newer;
    await source.release(0);
    await older;
    expect(model.decide(userId, 'user.disable').allowed).toBe(true);
  });

  it('does not let a full load older than a subject read undo it', async () => {
    const { source, model, sync } = setUp();
    const userId = aUserId();
    const loading = sync.loadAll(); // snapshot: nothing
    source.assignments = [anAssignment({ subjectId: userId, role: 'player' })];
    const changing = sync.changed([{ kind: 'subject', subjectId: userId }]);
    await source.release(1);
    await changing;
    await source.release(0);
    await loading;
    expect(model.decide(userId, 'game.join').allowed).toBe(true);
  });

  it('forgets assignments of a deleted role, even against an older subject read', async () => {
    const { source, model, sync } = setUp();
    const userId = aUserId();
    source.roles = [...builtInRoles(T0), aRole({ name: 'moderator' })];
    source.assignments = [anAssignment({ subjectId: userId, role: 'moderator' })];
    const loading = sync.loadAll();
    await source.release(0);
    await loading;

    const staleSubjectRead = sync.changed([{ kind: 'subject', subjectId: userId }]); // still sees moderator
    source.roles = builtInRoles(T0);
    source.assignments = [];
    const catalogueRead = sync.changed([{ kind: 'catalogue' }]);
    await source.release(1);
    await catalogueRead;
    await source.release(0);
    await staleSubjectRead;

    expect(model.assignmentsOf(userId)).toEqual([]);
  });

  it('reports a failed read instead of throwing', async () => {
    class FailingSource extends ScriptedSource {
      override assignmentsOf(): Promise<RoleAssignment[]> {
        return Promise.reject(new Error('db down'));
      }
    }
    const { sync, errors } = setUp(new FailingSource());
    await sync.changed([{ kind: 'subject', subjectId: aUserId() }]);
    expect(errors).toEqual([new Error('db down')]);
  });
});
