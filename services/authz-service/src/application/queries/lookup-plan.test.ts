import type { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import { anAuthzApp, type AuthzHarness } from '../../../test/support/harness.js';
import { MemoryAuthzRepository } from '../../adapters/memory/memory-authz-repository.js';
import { createAuthzApp } from '../../app.js';
import {
  aRole,
  aServiceCall,
  aUserCall,
  aUserId,
  FakeClock,
  silentLogger,
  T0,
} from '../../../test/support/mothers.js';
import { seed } from '../../../test/support/seed.js';
import { builtInRoles, newAssignment, type Scope } from '../../domain/index.js';
import type { LookupSubjects } from './lookup-subjects.js';

const HOUR = 3_600_000;
const guild42: Scope = { type: 'guild', id: '42' };

/** The harness plus guild roles: moderator (guild.moderate, inherits player), owner (guild.*:own), step_up. */
async function aGuildApp() {
  const h = await anAuthzApp();
  await seed(h.repository, {
    roles: [
      aRole({ name: 'moderator', permissions: ['guild.moderate'], inherits: ['player'] }),
      aRole({ name: 'owner', permissions: ['guild.*:own'] }),
      aRole({ name: 'step_up', permissions: ['guild.delete@aal2', 'guild.rename:own@aal2'] }),
    ],
  });
  await h.sync.loadCatalogue();
  const give = (subjectId: string, role: string, more: { scope?: Scope; expireTime?: Date } = {}) =>
    seed(h.repository, {
      assignments: [newAssignment({ subjectId, role, ...more }, h.clock.now())],
    });
  return { ...h, give };
}

const lookup = (
  h: AuthzHarness,
  request: Partial<LookupSubjects> & { permission: string },
  call = h.asService,
) => h.bus.run(h.useCases.lookupSubjects, { pageSize: 0, pageToken: '', ...request }, call);

/** Every page of a lookup, concatenated. */
async function lookupAll(
  h: AuthzHarness,
  request: Partial<LookupSubjects> & { permission: string },
) {
  const all: string[] = [];
  let pageToken = '';
  for (let pages = 0; pages < 100; pages++) {
    const page = await lookup(h, { ...request, pageToken });
    all.push(...page.subjectIds);
    if (page.nextPageToken === '') return all;
    pageToken = page.nextPageToken;
  }
  throw new Error('more than 100 pages');
}

const sorted = (ids: string[]) => [...ids].sort();

describe('LookupSubjects', () => {
  it('lists the holders of a permission after inheritance and wildcards, ordered, each once', async () => {
    const h = await aGuildApp();
    const mod = aUserId();
    await h.give(mod, 'moderator');
    await h.give(h.adminId, 'moderator'); // admin twice over: listed once
    expect(await lookup(h, { permission: 'guild.moderate' })).toEqual({
      subjectIds: sorted([h.adminId, mod]),
      nextPageToken: '',
      revision: 0,
    });
    // game.join: player's own grant, moderator's inherited one, admin's *.
    expect((await lookup(h, { permission: 'game.join' })).subjectIds).toEqual(
      sorted([h.adminId, h.playerId, mod]),
    );
  });

  it('counts an :own grant only for the resource owner, and none without a resource', async () => {
    const h = await aGuildApp();
    const other = aUserId();
    await h.give(other, 'player');
    const mine = { type: 'session', id: 's1', ownerId: h.playerId };
    expect((await lookup(h, { permission: 'session.end', resource: mine })).subjectIds).toEqual(
      sorted([h.adminId, h.playerId]),
    );
    expect((await lookup(h, { permission: 'session.end' })).subjectIds).toEqual([h.adminId]);
    const unowned = { type: 'session', id: 's1', ownerId: '' };
    expect((await lookup(h, { permission: 'session.end', resource: unowned })).subjectIds).toEqual([
      h.adminId,
    ]);
  });

  it('counts a scoped assignment only when the resource is its scope', async () => {
    const h = await aGuildApp();
    const mod42 = aUserId();
    const owner42 = aUserId();
    await h.give(mod42, 'moderator', { scope: guild42 });
    await h.give(owner42, 'owner', { scope: guild42 });
    const on42 = { type: 'guild', id: '42', ownerId: owner42 };
    expect((await lookup(h, { permission: 'guild.moderate', resource: on42 })).subjectIds).toEqual(
      sorted([h.adminId, mod42, owner42]),
    );
    const on43 = { type: 'guild', id: '43', ownerId: owner42 };
    expect((await lookup(h, { permission: 'guild.moderate', resource: on43 })).subjectIds).toEqual([
      h.adminId,
    ]);
    // A scoped :own grant needs the scope AND the owner.
    const on42ownedByOther = { type: 'guild', id: '42', ownerId: h.playerId };
    expect(
      (await lookup(h, { permission: 'guild.moderate', resource: on42ownedByOther })).subjectIds,
    ).toEqual(sorted([h.adminId, mod42]));
    expect((await lookup(h, { permission: 'guild.moderate' })).subjectIds).toEqual([h.adminId]);
  });

  it('leaves out lapsed assignments', async () => {
    const h = await aGuildApp();
    const brief = aUserId();
    await h.give(brief, 'moderator', { expireTime: new Date(h.clock.now().getTime() + HOUR) });
    expect((await lookup(h, { permission: 'guild.moderate' })).subjectIds).toContain(brief);
    h.clock.advance(HOUR);
    expect((await lookup(h, { permission: 'guild.moderate' })).subjectIds).not.toContain(brief);
  });

  it('counts @aal2 grants only at AAL2', async () => {
    const h = await aGuildApp();
    const elevated = aUserId();
    await h.give(elevated, 'step_up');
    expect((await lookup(h, { permission: 'guild.delete' })).subjectIds).toEqual([h.adminId]);
    expect((await lookup(h, { permission: 'guild.delete', aal2: true })).subjectIds).toEqual(
      sorted([h.adminId, elevated]),
    );
  });

  it('pages by subject_id with tokens bound to the question', async () => {
    const h = await aGuildApp();
    const mods = Array.from({ length: 5 }, () => aUserId());
    for (const mod of mods) await h.give(mod, 'moderator');
    const everyone = sorted([h.adminId, ...mods]);
    const first = await lookup(h, { permission: 'guild.moderate', pageSize: 4 });
    expect(first.subjectIds).toEqual(everyone.slice(0, 4));
    const second = await lookup(h, {
      permission: 'guild.moderate',
      pageSize: 4,
      pageToken: first.nextPageToken,
    });
    expect(second).toEqual({ subjectIds: everyone.slice(4), nextPageToken: '', revision: 0 });
    expect(await lookupAll(h, { permission: 'guild.moderate', pageSize: 1 })).toEqual(everyone);

    const refused = { kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' };
    for (const other of [
      { permission: 'game.join' },
      { permission: 'guild.moderate', aal2: true },
      { permission: 'guild.moderate', resource: guild42 },
    ]) {
      await expect(
        lookup(h, { ...other, pageSize: 4, pageToken: first.nextPageToken }),
      ).rejects.toMatchObject(refused);
    }
    await expect(
      lookup(h, { permission: 'guild.moderate', pageToken: 'not-a-token' }),
    ).rejects.toMatchObject(refused);
  });

  it('pages 100 by default and 1000 at most', async () => {
    const h = await anAuthzApp();
    const players = Array.from({ length: 1_100 }, () => aUserId());
    await seed(h.repository, {
      assignments: players.map((subjectId) =>
        newAssignment({ subjectId, role: 'player' }, h.clock.now()),
      ),
    });
    expect((await lookup(h, { permission: 'game.join' })).subjectIds).toHaveLength(100);
    const most = await lookup(h, { permission: 'game.join', pageSize: 5_000 });
    expect(most.subjectIds).toHaveLength(1_000);
    expect(most.nextPageToken).not.toBe('');
  });

  it('refuses a malformed permission or page size with field violations', async () => {
    const h = await anAuthzApp();
    for (const [permission, description] of [
      ['', 'is required'],
      ['session.end:own', expect.stringContaining('<resource>.<action>')],
      ['*', expect.stringContaining('<resource>.<action>')],
    ] as const) {
      await expect(lookup(h, { permission })).rejects.toMatchObject({
        kind: 'INVALID_ARGUMENT',
        reason: 'INVALID_ARGUMENT',
        violations: [{ field: 'permission', description }],
      });
    }
    await expect(lookup(h, { permission: 'game.join', pageSize: -1 })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'page_size', description: 'must not be negative' }],
    });
  });

  it('answers a user token only with permission.read, about everyone', async () => {
    const h = await anAuthzApp();
    const error = await lookup(h, { permission: 'game.join' }, h.asPlayer).catch(
      (e: unknown) => e as AppError,
    );
    expect(error).toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'PERMISSION_DENIED',
      message: 'missing permission permission.read',
    });
    expect((await lookup(h, { permission: 'game.join' }, h.asAdmin)).subjectIds).toContain(
      h.playerId,
    );
  });

  it('fills no subject cache: the holders come from the index', async () => {
    const h = await anAuthzApp();
    const before = { ...h.model.cache.stats };
    expect(await lookup(h, { permission: 'nothing.here', resource: guild42 })).toEqual({
      subjectIds: [h.adminId],
      nextPageToken: '',
      revision: 0,
    });
    expect(h.model.cache.stats).toEqual(before);
  });

  it('reads nothing when no role grants the permission', async () => {
    const repository = new MemoryAuthzRepository(
      builtInRoles(T0).filter((role) => role.name !== 'admin'),
    );
    let reads = 0;
    const holdersOf = repository.holdersOf.bind(repository);
    repository.holdersOf = async (query) => {
      reads++;
      return holdersOf(query);
    };
    const app = createAuthzApp({ repository, clock: new FakeClock(), logger: silentLogger });
    await app.sync.loadCatalogue();
    const page = await app.bus.run(
      app.useCases.lookupSubjects,
      { permission: 'nothing.here', pageSize: 0, pageToken: '' },
      aServiceCall(),
    );
    expect(page).toEqual({ subjectIds: [], nextPageToken: '', revision: 0 });
    expect(reads).toBe(0);
  });
});

describe('PlanPermission', () => {
  const planFor = (
    h: AuthzHarness,
    request: { subjectId: string; permission: string; resourceType?: string; aal2?: boolean },
    call = h.asService,
  ) => h.bus.run(h.useCases.planPermission, { resourceType: '', ...request }, call);

  it('plans ALWAYS_ALLOWED, CONDITIONAL owner_only, ALWAYS_DENIED from the built-in roles', async () => {
    const h = await anAuthzApp();
    expect(await planFor(h, { subjectId: h.adminId, permission: 'user.disable' })).toEqual({
      kind: 'ALWAYS_ALLOWED',
      ownerOnly: false,
      scopedResourceIds: [],
      stepUpRequired: false,
      revision: 0,
    });
    expect(
      await planFor(h, {
        subjectId: h.playerId,
        permission: 'session.end',
        resourceType: 'session',
      }),
    ).toEqual({
      kind: 'CONDITIONAL',
      ownerOnly: true,
      scopedResourceIds: [],
      stepUpRequired: false,
      revision: 0,
    });
    expect(await planFor(h, { subjectId: h.playerId, permission: 'user.disable' })).toMatchObject({
      kind: 'ALWAYS_DENIED',
    });
    expect(await planFor(h, { subjectId: aUserId(), permission: 'game.join' })).toMatchObject({
      kind: 'ALWAYS_DENIED',
    });
  });

  it('lists the scopes of the type whose role grants it, and asks for a step-up that would widen it', async () => {
    const h = await aGuildApp();
    const mod = aUserId();
    await h.give(mod, 'moderator', { scope: guild42 });
    await h.give(mod, 'moderator', { scope: { type: 'guild', id: '7' } });
    await h.give(mod, 'moderator', { scope: { type: 'game', id: '42' } });
    await h.give(mod, 'step_up');
    expect(await planFor(h, { subjectId: mod, permission: 'guild.moderate' })).toEqual({
      kind: 'CONDITIONAL',
      ownerOnly: false,
      scopedResourceIds: ['42', '7'],
      stepUpRequired: false,
      revision: 0,
    });
    expect(await planFor(h, { subjectId: mod, permission: 'guild.delete' })).toMatchObject({
      kind: 'ALWAYS_DENIED',
      stepUpRequired: true,
    });
    expect(
      await planFor(h, { subjectId: mod, permission: 'guild.delete', aal2: true }),
    ).toMatchObject({
      kind: 'ALWAYS_ALLOWED',
      stepUpRequired: false,
    });
  });

  it('refuses an empty subject, a malformed permission or another resource type', async () => {
    const h = await anAuthzApp();
    await expect(planFor(h, { subjectId: '', permission: 'x' })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        { field: 'subject_id', description: 'is required' },
        { field: 'permission', description: expect.stringContaining('<resource>.<action>') },
      ],
    });
    await expect(
      planFor(h, { subjectId: h.playerId, permission: 'session.end', resourceType: 'user' }),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        {
          field: 'resource_type',
          description: "must be the permission's resource type (session) or empty",
        },
      ],
    });
  });

  it('answers a user token about itself, or others with permission.read', async () => {
    const h = await anAuthzApp();
    expect(
      await planFor(h, { subjectId: h.playerId, permission: 'session.end' }, h.asPlayer),
    ).toMatchObject({ kind: 'CONDITIONAL' });
    await expect(
      planFor(h, { subjectId: h.adminId, permission: 'session.end' }, h.asPlayer),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED' });
    expect(
      await planFor(h, { subjectId: h.playerId, permission: 'session.end' }, h.asAdmin),
    ).toMatchObject({ kind: 'CONDITIONAL' });
    const stranger = aUserId();
    expect(
      await planFor(h, { subjectId: stranger, permission: 'game.join' }, aUserCall(stranger)),
    ).toMatchObject({ kind: 'ALWAYS_DENIED' });
  });
});

describe('LookupSubjects and PlanPermission with min_revision', () => {
  /** The harness, and a replica on the same repository that hears no events (a lagging cache). */
  async function withReplica() {
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

  it('LookupSubjects reads a role created since, from a replica whose catalogue lags', async () => {
    const { h, replica } = await withReplica();
    const modId = aUserId();
    await h.bus.run(
      h.useCases.createRole,
      { name: 'moderator', description: '', permissions: ['guild.moderate'], inherits: [] },
      h.asAdmin,
    );
    const { revision } = await h.bus.run(
      h.useCases.assignRole,
      { subjectId: modId, role: 'moderator' },
      h.asAdmin,
    );
    const onReplica = (minRevision?: number) =>
      replica.bus.run(
        replica.useCases.lookupSubjects,
        {
          permission: 'guild.moderate',
          pageSize: 0,
          pageToken: '',
          ...(minRevision ? { minRevision } : {}),
        },
        h.asService,
      );
    // Its catalogue has no moderator yet: only admin's * names a slice.
    expect((await onReplica()).subjectIds).toEqual([h.adminId]);
    expect(await onReplica(revision)).toEqual({
      subjectIds: [h.adminId, modId].sort(),
      nextPageToken: '',
      revision,
    });
  });

  it('PlanPermission plans a revoke read back with its revision, though the cache is warm', async () => {
    const { h, replica } = await withReplica();
    const onReplica = (minRevision?: number) =>
      replica.bus.run(
        replica.useCases.planPermission,
        {
          subjectId: h.playerId,
          permission: 'game.join',
          resourceType: '',
          ...(minRevision ? { minRevision } : {}),
        },
        h.asService,
      );
    expect(await onReplica()).toMatchObject({ kind: 'ALWAYS_ALLOWED', revision: 0 }); // warm now
    const revision = await h.bus.run(
      h.useCases.revokeRole,
      { subjectId: h.playerId, role: 'player' },
      h.asAdmin,
    );
    expect(await onReplica(revision)).toMatchObject({ kind: 'ALWAYS_DENIED', revision });
  });

  it('refuses a negative min_revision, and one above anything written', async () => {
    const h = await anAuthzApp();
    const negative = {
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'min_revision', description: expect.stringContaining('revision') }],
    };
    await expect(lookup(h, { permission: 'game.join', minRevision: -1 })).rejects.toMatchObject(
      negative,
    );
    await expect(
      h.bus.run(
        h.useCases.planPermission,
        { subjectId: h.playerId, permission: 'game.join', resourceType: '', minRevision: -1 },
        h.asService,
      ),
    ).rejects.toMatchObject(negative);
    const unreached = { kind: 'FAILED_PRECONDITION', reason: 'REVISION_NOT_REACHED' };
    await expect(lookup(h, { permission: 'game.join', minRevision: 99 })).rejects.toMatchObject(
      unreached,
    );
    await expect(
      h.bus.run(
        h.useCases.planPermission,
        { subjectId: h.playerId, permission: 'game.join', resourceType: '', minRevision: 99 },
        h.asService,
      ),
    ).rejects.toMatchObject(unreached);
  });
});
