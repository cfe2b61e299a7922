import { describe, expect, it } from 'vitest';
import { anAuthzApp, type AuthzHarness } from '../../../test/support/harness.js';
import { aUserId } from '../../../test/support/mothers.js';

const aCreateRole = (
  overrides: Partial<{
    name: string;
    description: string;
    permissions: string[];
    inherits: string[];
    requestId: string;
  }> = {},
) => ({
  name: 'moderator',
  description: 'Keeps the chat civil.',
  permissions: ['chat.mute', 'session.end'],
  inherits: ['player'],
  ...overrides,
});

const anUpdate = (
  name: string,
  overrides: Partial<{
    description: string;
    permissions: string[];
    inherits: string[];
    updateMask: string[];
  }> = {},
) => ({
  name,
  description: '',
  permissions: [],
  inherits: [],
  updateMask: [],
  ...overrides,
});

async function withModerator(): Promise<AuthzHarness & { moderatorId: string }> {
  const h = await anAuthzApp();
  await h.bus.run(h.useCases.createRole, aCreateRole(), h.asAdmin);
  const moderatorId = aUserId();
  await h.bus.run(h.useCases.assignRole, { subjectId: moderatorId, role: 'moderator' }, h.asAdmin);
  return Object.assign(h, { moderatorId });
}

describe('CreateRole', () => {
  it('creates a role whose holders get its and inherited grants', async () => {
    const h = await withModerator();
    expect((await h.model.decide(h.moderatorId, 'chat.mute')).reason).toBe(
      'role moderator grants chat.mute',
    );
    expect((await h.model.decide(h.moderatorId, 'game.join')).reason).toBe(
      'role moderator grants game.join via player',
    );
    expect(h.newEvents()[0]).toMatchObject({
      type: 'role_created',
      role: { name: 'moderator', builtIn: false },
    });
  });

  it('refuses a name taken', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.createRole, aCreateRole({ name: 'player' }), h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'ALREADY_EXISTS',
      reason: 'ROLE_ALREADY_EXISTS',
    });
  });

  it('refuses to inherit a role that does not exist, writing nothing', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.createRole, aCreateRole({ inherits: ['ghost'] }), h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
    expect(await h.repository.findRole('moderator')).toBeUndefined();
    expect(h.newEvents()).toEqual([]);
  });

  it('refuses malformed grants with their index', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(
        h.useCases.createRole,
        aCreateRole({ permissions: ['chat.mute', 'chat'] }),
        h.asAdmin,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'role.permissions[1]', description: expect.any(String) }],
    });
  });

  it('replays a request_id', async () => {
    const h = await anAuthzApp();
    const first = await h.bus.run(
      h.useCases.createRole,
      aCreateRole({ requestId: 'r1' }),
      h.asAdmin,
    );
    // The replay answers the first run's revision, and takes none.
    expect(
      await h.bus.run(h.useCases.createRole, aCreateRole({ requestId: 'r1' }), h.asAdmin),
    ).toEqual(first);
    expect(await h.repository.currentRevision()).toBe(first.revision);
    await expect(
      h.bus.run(
        h.useCases.createRole,
        aCreateRole({ requestId: 'r1', description: 'other' }),
        h.asAdmin,
      ),
    ).rejects.toMatchObject({
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('is for role.create holders only', async () => {
    const h = await anAuthzApp();
    await expect(h.bus.run(h.useCases.createRole, aCreateRole(), h.asPlayer)).rejects.toMatchObject(
      { kind: 'PERMISSION_DENIED' },
    );
  });
});

describe('UpdateRole', () => {
  it('updates the fields in the mask, records what changed, and holders feel it at once', async () => {
    const h = await withModerator();
    const { value: role } = await h.bus.run(
      h.useCases.updateRole,
      anUpdate('moderator', {
        permissions: ['chat.*'],
        description: 'ignored: not in the mask',
        updateMask: ['permissions'],
      }),
      h.asAdmin,
    );
    expect(role.permissions).toEqual(['chat.*']);
    expect(role.description).toBe('Keeps the chat civil.');
    expect(h.newEvents().at(-1)).toMatchObject({ type: 'role_updated', changed: ['permissions'] });
    expect((await h.model.decide(h.moderatorId, 'chat.ban')).allowed).toBe(true);
    expect((await h.model.decide(h.moderatorId, 'session.end')).allowed).toBe(false);
  });

  it('without a mask updates every field given a value', async () => {
    const h = await withModerator();
    const { value: role } = await h.bus.run(
      h.useCases.updateRole,
      anUpdate('moderator', { description: 'New' }),
      h.asAdmin,
    );
    expect(role).toMatchObject({
      description: 'New',
      permissions: ['chat.mute', 'session.end'],
      inherits: ['player'],
    });
  });

  it('clears a field named in the mask', async () => {
    const h = await withModerator();
    const { value: role } = await h.bus.run(
      h.useCases.updateRole,
      anUpdate('moderator', { updateMask: ['inherits'] }),
      h.asAdmin,
    );
    expect(role.inherits).toEqual([]);
    expect((await h.model.decide(h.moderatorId, 'game.join')).allowed).toBe(false);
  });

  it('records nothing when nothing changed', async () => {
    const h = await withModerator();
    const before = h.newEvents().length;
    await h.bus.run(
      h.useCases.updateRole,
      anUpdate('moderator', { inherits: ['player'] }),
      h.asAdmin,
    );
    expect(h.newEvents()).toHaveLength(before);
  });

  it('refuses an inheritance cycle with ROLE_CYCLE and writes nothing', async () => {
    const h = await withModerator();
    const before = h.newEvents().length;
    await expect(
      h.bus.run(
        h.useCases.updateRole,
        anUpdate('guest', { inherits: ['moderator'], updateMask: ['inherits'] }),
        h.asAdmin,
      ),
    ).rejects.toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'ROLE_CYCLE' });
    expect((await h.repository.findRole('guest'))!.inherits).toEqual([]);
    expect(h.newEvents()).toHaveLength(before);
  });

  it('refuses unknown mask paths, unknown roles and taking * from admin', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.updateRole, anUpdate('player', { updateMask: ['name'] }), h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        { field: 'update_mask', description: expect.stringContaining('unknown path name') },
      ],
    });
    await expect(
      h.bus.run(h.useCases.updateRole, anUpdate('ghost', { description: 'x' }), h.asAdmin),
    ).rejects.toMatchObject({
      reason: 'ROLE_NOT_FOUND',
    });
    await expect(
      h.bus.run(
        h.useCases.updateRole,
        anUpdate('admin', { permissions: ['user.read'], updateMask: ['permissions'] }),
        h.asAdmin,
      ),
    ).rejects.toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'BUILT_IN_ROLE' });
  });

  it('lets built-in roles change otherwise', async () => {
    const h = await anAuthzApp();
    const { value: player } = await h.bus.run(
      h.useCases.updateRole,
      anUpdate('player', { permissions: ['game.join', 'game.leave'] }),
      h.asAdmin,
    );
    expect(player).toMatchObject({ builtIn: true, permissions: ['game.join', 'game.leave'] });
  });
});

describe('DeleteRole', () => {
  it('deletes the role and its assignments with one RoleDeleted', async () => {
    const h = await withModerator();
    const before = h.newEvents().length;
    const revision = await h.bus.run(h.useCases.deleteRole, { name: 'moderator' }, h.asAdmin);
    expect(h.newEvents().slice(before)).toEqual([
      { type: 'role_deleted', name: 'moderator', occurTime: h.clock.now(), revision },
    ]);
    expect(await h.repository.assignmentsOf(h.moderatorId)).toEqual([]);
    expect((await h.model.decide(h.moderatorId, 'chat.mute')).allowed).toBe(false);
  });

  it('does not bring old assignments back when a role of the same name is created again', async () => {
    const h = await withModerator();
    await h.bus.run(h.useCases.deleteRole, { name: 'moderator' }, h.asAdmin);
    await h.bus.run(h.useCases.createRole, aCreateRole(), h.asAdmin);
    expect((await h.model.decide(h.moderatorId, 'chat.mute')).allowed).toBe(false);
  });

  it('refuses built-in roles and roles others inherit, writing nothing', async () => {
    const h = await withModerator();
    const before = h.newEvents().length;
    await expect(
      h.bus.run(h.useCases.deleteRole, { name: 'player' }, h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'BUILT_IN_ROLE',
    });
    await h.bus.run(
      h.useCases.createRole,
      aCreateRole({ name: 'senior', inherits: ['moderator'] }),
      h.asAdmin,
    );
    await expect(
      h.bus.run(h.useCases.deleteRole, { name: 'moderator' }, h.asAdmin),
    ).rejects.toMatchObject({ reason: 'ROLE_IN_USE' });
    expect(await h.repository.findRole('player')).toBeDefined();
    expect(
      h
        .newEvents()
        .slice(before)
        .map((e) => e.type),
    ).toEqual(['role_created']);
  });

  it('refuses an unknown role', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.deleteRole, { name: 'ghost' }, h.asAdmin),
    ).rejects.toMatchObject({ reason: 'ROLE_NOT_FOUND' });
  });
});
