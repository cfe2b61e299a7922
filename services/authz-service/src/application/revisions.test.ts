import { afterEach, describe, expect, it, vi } from 'vitest';
import { anAuthzApp, type AuthzHarness } from '../../test/support/harness.js';
import { aUserCall, aUserId, silentLogger } from '../../test/support/mothers.js';
import { createAuthzApp } from '../app.js';
import { Freshness, RevisionWatermark } from './revisions.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RevisionWatermark', () => {
  it('advances over contiguous revisions only: one above a missing revision waits for it', () => {
    const watermark = new RevisionWatermark();
    watermark.applied(1);
    expect(watermark.revision).toBe(1);
    watermark.applied(3);
    watermark.applied(4);
    expect(watermark.revision).toBe(1); // 2 not seen: never overstated
    expect(watermark.pending).toBe(2);
    watermark.applied(2);
    expect(watermark.revision).toBe(4);
    expect(watermark.pending).toBe(0);
  });

  it('ignores duplicates and revisions it has passed', () => {
    const watermark = new RevisionWatermark();
    for (const revision of [2, 1, 2, 1, 3, 3, 0, -1, Number.NaN]) watermark.applied(revision);
    expect(watermark.revision).toBe(3);
    expect(watermark.pending).toBe(0);
  });

  it('a baseline moves it to the revision read before a fresh read, keeping what lies above', () => {
    const watermark = new RevisionWatermark();
    watermark.applied(1);
    watermark.applied(5); // 2..4 lost in a gap
    watermark.applied(7);
    watermark.baseline(4);
    expect(watermark.revision).toBe(5);
    expect(watermark.pending).toBe(1);
    watermark.baseline(3); // an older baseline never moves it back
    expect(watermark.revision).toBe(5);
    watermark.applied(6);
    expect(watermark.revision).toBe(7);
  });

  it('tells its caller to resync when too many revisions wait above a missing one', () => {
    const watermark = new RevisionWatermark(2);
    expect(watermark.applied(2)).toBe(true);
    expect(watermark.applied(3)).toBe(true);
    expect(watermark.applied(4)).toBe(false);
    expect(watermark.revision).toBe(0);
  });

  it('reach resolves as soon as the revision is applied, or false after the wait', async () => {
    vi.useFakeTimers();
    const watermark = new RevisionWatermark();
    expect(await watermark.reach(0, 0)).toBe(true);
    const reached = watermark.reach(2, 100);
    watermark.applied(2);
    watermark.applied(1);
    expect(await reached).toBe(true);
    const late = watermark.reach(3, 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await late).toBe(false);
    expect(await watermark.reach(3, 0)).toBe(false);
  });
});

describe('Freshness.settle', () => {
  const database = (revision: number) => ({ currentRevision: async () => revision });

  it('answers from the caches without waiting when they are new enough', () => {
    const watermark = new RevisionWatermark();
    watermark.baseline(5);
    const freshness = new Freshness(watermark, database(9), 1_000);
    expect(freshness.settle()).toEqual({ revision: 5, readThrough: false });
    expect(freshness.settle(0)).toEqual({ revision: 5, readThrough: false });
    expect(freshness.settle(5)).toEqual({ revision: 5, readThrough: false });
  });

  it('waits for the events, then answers from the caches', async () => {
    const watermark = new RevisionWatermark();
    const freshness = new Freshness(watermark, database(2), 1_000);
    const settling = freshness.settle(2);
    watermark.applied(1);
    watermark.applied(2);
    expect(await settling).toEqual({ revision: 2, readThrough: false });
    freshness.settle(1);
    freshness.settle(); // asked for nothing: not counted
    expect(freshness.stats).toEqual({ hits: 2, misses: 0 });
  });

  it('reads through after the wait, at the database revision', async () => {
    vi.useFakeTimers();
    const freshness = new Freshness(new RevisionWatermark(), database(7), 150);
    const settling = freshness.settle(6);
    await vi.advanceTimersByTimeAsync(150);
    expect(await settling).toEqual({ revision: 7, readThrough: true });
    expect(freshness.stats).toEqual({ hits: 0, misses: 1 });
  });

  it('refuses a revision above the database: FAILED_PRECONDITION / REVISION_NOT_REACHED', async () => {
    const freshness = new Freshness(new RevisionWatermark(), database(7), 0);
    await expect(freshness.settle(8)).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'REVISION_NOT_REACHED',
      metadata: { min_revision: '8', revision: '7' },
    });
  });

  it('turns a database failure into POLICY_UNAVAILABLE, never an answer from older state', async () => {
    const down = {
      currentRevision: async (): Promise<number> => {
        throw new Error('connection refused');
      },
    };
    await expect(new Freshness(new RevisionWatermark(), down, 0).settle(1)).rejects.toMatchObject({
      kind: 'UNAVAILABLE',
      reason: 'POLICY_UNAVAILABLE',
    });
  });
});

/**
 * Two replicas on one database: `h` writes, `replica` hears nothing of it (its events are not
 * delivered), so its cache stays as it was until a read asks for the write's revision.
 */
async function twoReplicas(): Promise<{
  h: AuthzHarness;
  replica: ReturnType<typeof createAuthzApp>;
}> {
  const h = await anAuthzApp();
  const replica = createAuthzApp({
    repository: h.repository,
    clock: h.clock,
    logger: silentLogger,
    minRevisionWaitMs: 20,
  });
  await replica.sync.resync();
  return { h, replica };
}

describe('read-your-writes across replicas', () => {
  it('a revoke read back with its revision on a replica whose cache is warm is denied', async () => {
    const { h, replica } = await twoReplicas();
    const check = (minRevision?: number) =>
      replica.bus.run(
        replica.useCases.checkPermission,
        { subjectId: h.playerId, permission: 'game.join', ...(minRevision ? { minRevision } : {}) },
        h.asService,
      );
    expect(await check()).toMatchObject({ allowed: true, revision: 0 }); // warm now

    const revision = await h.bus.run(
      h.useCases.revokeRole,
      { subjectId: h.playerId, role: 'player' },
      h.asAdmin,
    );
    // The writer's own replica heard its commit at once.
    expect(
      await h.bus.run(
        h.useCases.checkPermission,
        { subjectId: h.playerId, permission: 'game.join', minRevision: revision },
        h.asService,
      ),
    ).toMatchObject({ allowed: false, revision });
    // The other one waits, then reads through for this request.
    expect(await check(revision)).toMatchObject({ allowed: false, revision });
    // Its shared cache is left to the events: they alone replace what it holds.
    expect(await check()).toMatchObject({ allowed: true, revision: 0 });
    await replica.sync.committed(h.newEvents());
    expect(await check(revision)).toMatchObject({ allowed: false, revision });
    expect(await check()).toMatchObject({ allowed: false, revision });
  });

  it('CheckPermissions answers the whole batch at the highest min_revision', async () => {
    const { h, replica } = await twoReplicas();
    const checks = (minRevision: number) => [
      { subjectId: h.adminId, permission: 'user.list' },
      { subjectId: h.playerId, permission: 'game.join', minRevision },
    ];
    expect(
      await replica.bus.run(replica.useCases.checkPermissions, { checks: checks(0) }, h.asService),
    ).toMatchObject([{ allowed: true }, { allowed: true }]);
    const revision = await h.bus.run(
      h.useCases.revokeRole,
      { subjectId: h.playerId, role: 'player' },
      h.asAdmin,
    );
    expect(
      await replica.bus.run(
        replica.useCases.checkPermissions,
        { checks: checks(revision) },
        h.asService,
      ),
    ).toMatchObject([
      { allowed: true, revision },
      { allowed: false, revision },
    ]);
  });

  it('ListSubjectPermissions honours min_revision, and a catalogue change is read through too', async () => {
    const { h, replica } = await twoReplicas();
    const list = (minRevision?: number) =>
      replica.bus.run(
        replica.useCases.listSubjectPermissions,
        { subjectId: h.playerId, ...(minRevision ? { minRevision } : {}) },
        h.asAdmin,
      );
    expect((await list()).permissions).not.toContain('chat.mute');
    const created = await h.bus.run(
      h.useCases.createRole,
      { name: 'muter', description: '', permissions: ['chat.mute'], inherits: [] },
      h.asAdmin,
    );
    const assigned = await h.bus.run(
      h.useCases.assignRole,
      { subjectId: h.playerId, role: 'muter' },
      h.asAdmin,
    );
    expect(assigned.revision).toBe(created.revision + 1);
    const fresh = await list(assigned.revision);
    expect(fresh.permissions).toContain('chat.mute');
    expect(fresh.roles).toContain('muter');
    expect(fresh.revision).toBe(assigned.revision);
    // Without it, the replica answers from its catalogue, which has no `muter` yet.
    expect((await list()).permissions).not.toContain('chat.mute');
  });

  it('the bus asks for the call context min_revision before running a use case', async () => {
    const { h, replica } = await twoReplicas();
    const readerId = aUserId();
    await h.bus.run(h.useCases.assignRole, { subjectId: readerId, role: 'admin' }, h.asAdmin);
    await replica.sync.committed(h.newEvents());
    const asReader = aUserCall(readerId);
    const listRoles = (minRevision?: number) =>
      replica.bus.run(
        replica.useCases.listRoles,
        { pageSize: 10, pageToken: '' },
        { ...asReader, ...(minRevision ? { minRevision } : {}) },
      );
    await listRoles(); // the reader's grants are cached on the replica
    const revision = await h.bus.run(
      h.useCases.revokeRole,
      { subjectId: readerId, role: 'admin' },
      h.asAdmin,
    );
    await expect(listRoles(revision)).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'PERMISSION_DENIED',
    });
  });

  it('refuses a negative min_revision, and one above anything written', async () => {
    const { h } = await twoReplicas();
    await expect(
      h.bus.run(
        h.useCases.checkPermission,
        { subjectId: h.playerId, permission: 'game.join', minRevision: -1 },
        h.asService,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'min_revision', description: expect.stringContaining('revision') }],
    });
    await expect(
      h.bus.run(
        h.useCases.listSubjectPermissions,
        { subjectId: h.playerId, minRevision: 99 },
        h.asAdmin,
      ),
    ).rejects.toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'REVISION_NOT_REACHED' });
  });
});
