import { AppError } from '@warden/errors';
import { describe, expect, it, vi } from 'vitest';
import { aRole, anAssignment, aUserId, FakeClock, T0 } from '../../test/support/mothers.js';
import { builtInRoles, type Role, type RoleAssignment } from '../domain/index.js';
import { PolicyModel } from './policy-model.js';
import { PolicySync } from './policy-sync.js';
import { RevisionWatermark } from './revisions.js';
import type { PolicySource } from './ports.js';

/**
 * A policy source whose answers the test releases one by one, in any order. It can read the
 * catalogue and one subject: there is no way to read every assignment, and none is needed.
 */
class ScriptedSource implements PolicySource {
  readonly pending: Array<{ what: string; release: () => void }> = [];
  roles: Role[] = builtInRoles(T0);
  assignments: RoleAssignment[] = [];
  revision = 0;

  /** Answered at once: the watermark tests release nothing for it. */
  async currentRevision(): Promise<number> {
    return this.revision;
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

  async release(index = 0): Promise<void> {
    this.pending.splice(index, 1)[0]!.release();
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Answers everything asked so far, and whatever that asks, until nothing waits. */
  async releaseAll(): Promise<void> {
    for (let i = 0; i < 100 && this.pending.length > 0; i++) await this.release();
  }
}

async function setUp(options: { source?: ScriptedSource; maxSubjects?: number } = {}) {
  const source = options.source ?? new ScriptedSource();
  const clock = new FakeClock();
  const model = new PolicyModel(clock, {
    source,
    ...(options.maxSubjects ? { maxSubjects: options.maxSubjects } : {}),
  });
  const errors: unknown[] = [];
  const sync = new PolicySync(model, source, (error) => errors.push(error));
  const starting = sync.loadCatalogue();
  await source.release();
  await starting;
  /** A check answered after whatever reads it needs. */
  const allowed = async (subjectId: string, permission: string) => {
    const decision = model.decide(subjectId, permission);
    await source.releaseAll();
    return (await decision).allowed;
  };
  return { source, clock, model, sync, errors, allowed };
}

describe('PolicyModel and PolicySync', () => {
  it('starts with the catalogue alone and reads a subject at its first check', async () => {
    const { source, model, allowed } = await setUp();
    const userId = aUserId();
    source.assignments = [anAssignment({ subjectId: userId, role: 'player' })];
    expect(source.pending).toEqual([]);
    expect(model.holds(userId)).toBe(false);

    expect(await allowed(userId, 'game.join')).toBe(true);
    expect(model.holds(userId)).toBe(true);
    // Warm: answered synchronously, no read.
    const warm = model.decide(userId, 'game.join');
    expect(warm).not.toBeInstanceOf(Promise);
    expect(source.pending).toEqual([]);
    expect(model.cache.stats).toMatchObject({ hits: 1, misses: 1 });
  });

  it('re-reads a cached subject on its event', async () => {
    const { source, sync, allowed } = await setUp();
    const userId = aUserId();
    source.assignments = [anAssignment({ subjectId: userId, role: 'player' })];
    expect(await allowed(userId, 'game.join')).toBe(true);

    source.assignments = [];
    const changing = sync.changed([{ kind: 'subject', subjectId: userId }]);
    expect(source.pending.map((p) => p.what)).toEqual([`subject ${userId}`]);
    await source.release();
    await changing;
    expect(await allowed(userId, 'game.join')).toBe(false);
  });

  it('a check racing a revocation never installs the revoked grant', async () => {
    const { source, model, sync, allowed } = await setUp();
    const userId = aUserId();
    source.assignments = [anAssignment({ subjectId: userId, role: 'admin' })];
    const racing = model.decide(userId, 'user.disable'); // its read sees admin

    source.assignments = []; // the revocation commits, then its event arrives
    const changing = sync.changed([{ kind: 'subject', subjectId: userId }]);
    await source.release(1); // the event's read (no role) returns first
    await changing;
    await source.release(0); // the check's older read returns last
    // The racing check began before the revocation: it may answer with what it read...
    expect((await racing).allowed).toBe(true);
    // ...but nothing after the revocation does.
    expect(await allowed(userId, 'user.disable')).toBe(false);
    expect(source.pending).toEqual([]);
  });

  it('an event about a subject this process does not hold reads nothing', async () => {
    const { source, model, sync, errors } = await setUp();
    const userId = aUserId();
    await sync.changed([{ kind: 'subject', subjectId: userId }]);
    expect(source.pending).toEqual([]);
    expect(model.holds(userId)).toBe(false);
    expect(errors).toEqual([]);
  });

  it('keeps at most maxSubjects subjects; an evicted one is read afresh, its missed events harmless', async () => {
    const { source, model, sync, allowed } = await setUp({ maxSubjects: 2 });
    const [a, b, c] = [aUserId(), aUserId(), aUserId()];
    source.assignments = [a, b, c].map((subjectId) => anAssignment({ subjectId, role: 'player' }));
    for (const id of [a, b, c]) expect(await allowed(id, 'game.join')).toBe(true);
    expect(model.cache.size).toBe(2);
    expect(model.holds(a)).toBe(false);

    // a loses its role while evicted: the event finds nothing to drop and reads nothing...
    source.assignments = source.assignments.filter((x) => x.subjectId !== a);
    await sync.changed([{ kind: 'subject', subjectId: a }]);
    expect(source.pending).toEqual([]);
    // ...and its next check reads the current state.
    expect(await allowed(a, 'game.join')).toBe(false);
    expect(model.cache.size).toBe(2);
  });

  it('a cached assignment lapses at its expire_time without any event', async () => {
    const { source, clock, allowed } = await setUp();
    const userId = aUserId();
    source.assignments = [
      anAssignment({
        subjectId: userId,
        role: 'admin',
        expireTime: new Date(T0.getTime() + 60_000),
      }),
    ];
    expect(await allowed(userId, 'user.disable')).toBe(true);
    clock.advance(60_000);
    expect(await allowed(userId, 'user.disable')).toBe(false);
  });

  it('a deleted role drops every cached subject at once, even against an older subject read', async () => {
    const source = new ScriptedSource();
    source.roles = [...builtInRoles(T0), aRole({ name: 'moderator' })];
    const { model, sync, allowed } = await setUp({ source });
    const [held, reading] = [aUserId(), aUserId()];
    source.assignments = [held, reading].map((subjectId) =>
      anAssignment({ subjectId, role: 'moderator' }),
    );
    expect(await allowed(held, 'chat.mute')).toBe(true);
    const stale = model.decide(reading, 'chat.mute'); // still sees moderator

    source.roles = builtInRoles(T0); // DeleteRole commits; its assignments go with it
    source.assignments = [];
    const deleting = sync.changed([{ kind: 'catalogue', dropsAssignments: true }]);
    expect(model.holds(held)).toBe(false);
    expect(model.holds(reading)).toBe(false);
    await source.releaseAll();
    await deleting;
    await stale;

    source.roles = [...builtInRoles(T0), aRole({ name: 'moderator' })]; // created again
    const recreating = sync.changed([{ kind: 'catalogue', dropsAssignments: false }]);
    await source.releaseAll();
    await recreating;
    expect(await allowed(held, 'chat.mute')).toBe(false);
    expect(await allowed(reading, 'chat.mute')).toBe(false);
  });

  it('drops a catalogue read that finishes after a newer one', async () => {
    const source = new ScriptedSource();
    const { model, sync } = await setUp({ source });
    const older = sync.loadCatalogue(); // reads the built-in roles
    source.roles = [...builtInRoles(T0), aRole({ name: 'moderator' })];
    const newer = sync.loadCatalogue();
    await source.release(1);
    await newer;
    await source.release(0);
    await older;
    expect(model.roles.has('moderator')).toBe(true);
  });

  it('after a gap in the events, forgets every subject, reads the catalogue and moves the watermark', async () => {
    const { source, model, sync, allowed } = await setUp();
    const userId = aUserId();
    source.assignments = [anAssignment({ subjectId: userId, role: 'player' })];
    expect(await allowed(userId, 'game.join')).toBe(true);
    source.revision = 5;
    const resyncing = sync.resync();
    expect(model.cache.size).toBe(0);
    await new Promise((resolve) => setImmediate(resolve)); // the revision is read first
    expect(source.pending.map((p) => p.what)).toEqual(['roles']);
    expect(sync.watermark.revision).toBe(0); // not before the catalogue is read
    await source.release();
    await resyncing;
    expect(sync.watermark.revision).toBe(5);
  });

  it('while the events cannot be heard, every check reads its subject', async () => {
    const { source, model, sync, allowed } = await setUp();
    const userId = aUserId();
    source.assignments = [anAssignment({ subjectId: userId, role: 'admin' })];
    expect(await allowed(userId, 'user.disable')).toBe(true);

    sync.eventsConnected(false);
    expect(model.holds(userId)).toBe(false);
    expect(await allowed(userId, 'user.disable')).toBe(true);
    source.assignments = []; // revoked elsewhere; its event is lost with the connection
    expect(await allowed(userId, 'user.disable')).toBe(false); // read again: seen at once
    expect(model.cache.size).toBe(0);

    sync.eventsConnected(true);
    expect(await allowed(userId, 'user.disable')).toBe(false);
    expect(model.holds(userId)).toBe(true);
  });

  it('a failed read is UNAVAILABLE for the check, reported for an event, and cached for neither', async () => {
    class FailingSource extends ScriptedSource {
      down = false;
      override assignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
        return this.down ? Promise.reject(new Error('db down')) : super.assignmentsOf(subjectId);
      }
    }
    const source = new FailingSource();
    const { model, sync, errors, allowed } = await setUp({ source });
    const userId = aUserId();
    source.down = true;
    const failure = await Promise.resolve(model.decide(userId, 'game.join')).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ kind: 'UNAVAILABLE', reason: 'POLICY_UNAVAILABLE' });
    expect(model.holds(userId)).toBe(false);

    source.down = false;
    source.assignments = [anAssignment({ subjectId: userId, role: 'player' })];
    expect(await allowed(userId, 'game.join')).toBe(true);
    source.down = true;
    await sync.changed([{ kind: 'subject', subjectId: userId }]);
    expect(errors).toHaveLength(1);
    expect(model.holds(userId)).toBe(false);
  });
});

describe('PolicySync watermark', () => {
  it('counts a subject change at once (forgotten), a catalogue change when a later read returns', async () => {
    const { source, sync } = await setUp();
    await sync.changed([{ kind: 'subject', subjectId: aUserId(), revision: 1 }]);
    expect(sync.watermark.revision).toBe(1);
    const changing = sync.changed([{ kind: 'catalogue', dropsAssignments: false, revision: 2 }]);
    expect(sync.watermark.revision).toBe(1); // the catalogue is being read
    await source.release();
    await changing;
    expect(sync.watermark.revision).toBe(2);
  });

  it('out of order and twice: counts each revision once, none above a missing one', async () => {
    const { sync } = await setUp();
    const subject = (revision: number) => ({
      kind: 'subject' as const,
      subjectId: aUserId(),
      revision,
    });
    await sync.changed([subject(3)]);
    await sync.changed([subject(1), subject(1)]);
    expect(sync.watermark.revision).toBe(1);
    await sync.changed([subject(2), subject(3)]);
    expect(sync.watermark.revision).toBe(3);
  });

  it('a catalogue read that fails leaves its revision to the next read that succeeds', async () => {
    const source = new ScriptedSource();
    const { sync, errors } = await setUp({ source });
    const failing = vi.spyOn(source, 'allRoles').mockRejectedValueOnce(new Error('db down'));
    await sync.changed([{ kind: 'catalogue', dropsAssignments: false, revision: 1 }]);
    expect(errors).toHaveLength(1);
    expect(sync.watermark.revision).toBe(0);
    failing.mockRestore();
    const reloading = sync.loadCatalogue(); // the periodic safety net
    await source.release();
    await reloading;
    expect(sync.watermark.revision).toBe(1);
  });

  it('resyncs when too many revisions wait above a lost one', async () => {
    const source = new ScriptedSource();
    const model = new PolicyModel(new FakeClock(), { source });
    const sync = new PolicySync(model, source, () => undefined, new RevisionWatermark(1));
    source.revision = 4;
    await sync.changed([{ kind: 'subject', subjectId: aUserId(), revision: 3 }]);
    await sync.changed([{ kind: 'subject', subjectId: aUserId(), revision: 4 }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.pending.map((p) => p.what)).toEqual(['roles']); // the resync's catalogue read
    await source.release();
    expect(sync.watermark.revision).toBe(4);
  });
});
