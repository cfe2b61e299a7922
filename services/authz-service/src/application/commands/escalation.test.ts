import { describe, expect, it } from 'vitest';
import { anAuthzApp, type AuthzHarness } from '../../../test/support/harness.js';
import { aServiceCall, aUserCall, aUserId } from '../../../test/support/mothers.js';
import { OPERATOR_HOLDS_EVERYTHING } from '../delegation.js';
import { NO_POLICY_LISTENER } from '../ports.js';
import { AssignRoleHandler } from './assign-role.js';

/** A role made by the admin and held by a fresh user; returns that user's call context. */
async function holderOf(
  h: AuthzHarness,
  name: string,
  permissions: string[],
  inherits: string[] = [],
) {
  await h.bus.run(
    h.useCases.createRole,
    { name, description: name, permissions, inherits },
    h.asAdmin,
  );
  const userId = aUserId();
  await h.bus.run(h.useCases.assignRole, { subjectId: userId, role: name }, h.asAdmin);
  return { userId, ctx: aUserCall(userId) };
}

const role = (name: string, permissions: string[], inherits: string[] = []) => ({
  name,
  description: name,
  permissions,
  inherits,
});

const escalation = (role: string) => ({
  kind: 'PERMISSION_DENIED',
  reason: 'ESCALATION_DENIED',
  message: `role ${role} grants more than you hold`,
});

describe('AssignRole hands out only what the caller holds', () => {
  it('refuses a helpdesk with role.assign giving admin to itself or anyone, writing nothing', async () => {
    const h = await anAuthzApp();
    const helpdesk = await holderOf(h, 'helpdesk', ['role.assign'], ['player']);
    const before = h.newEvents().length;
    for (const subjectId of [helpdesk.userId, h.playerId]) {
      await expect(
        h.bus.run(h.useCases.assignRole, { subjectId, role: 'admin' }, helpdesk.ctx),
      ).rejects.toMatchObject(escalation('admin'));
    }
    expect(h.newEvents()).toHaveLength(before);
    expect((await h.model.decide(helpdesk.userId, 'user.delete')).allowed).toBe(false);
    expect((await h.repository.assignmentsOf(h.playerId)).map((a) => a.role)).toEqual(['player']);
  });

  it('refuses a role granting what the caller holds only on its own things, or inheriting more', async () => {
    const h = await anAuthzApp();
    const helpdesk = await holderOf(h, 'helpdesk', ['role.assign'], ['player']);
    await h.bus.run(h.useCases.createRole, role('reader', ['user.read']), h.asAdmin);
    await h.bus.run(h.useCases.createRole, role('deputy', [], ['admin']), h.asAdmin);
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId: h.playerId, role: 'reader' }, helpdesk.ctx),
    ).rejects.toMatchObject(escalation('reader'));
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId: h.playerId, role: 'deputy' }, helpdesk.ctx),
    ).rejects.toMatchObject(escalation('deputy'));
  });

  it('lets it assign a role it fully covers, inherited grants included', async () => {
    const h = await anAuthzApp();
    const helpdesk = await holderOf(h, 'helpdesk', ['role.assign'], ['player']);
    await h.bus.run(h.useCases.createRole, role('greeter', ['game.join'], ['guest']), h.asAdmin);
    const subjectId = aUserId();
    await h.bus.run(h.useCases.assignRole, { subjectId, role: 'greeter' }, helpdesk.ctx);
    await h.bus.run(h.useCases.assignRole, { subjectId, role: 'player' }, helpdesk.ctx);
    expect((await h.repository.assignmentsOf(subjectId)).map((a) => a.role)).toEqual([
      'greeter',
      'player',
    ]);
  });

  it('counts a resource wildcard: user.* covers user grants, not session ones', async () => {
    const h = await anAuthzApp();
    const userAdmin = await holderOf(h, 'user-admin', ['role.assign', 'user.*']);
    await h.bus.run(h.useCases.createRole, role('user-reader', ['user.read']), h.asAdmin);
    await h.bus.run(h.useCases.createRole, role('ender', ['session.end']), h.asAdmin);
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: h.playerId, role: 'user-reader' },
      userAdmin.ctx,
    );
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId: h.playerId, role: 'ender' }, userAdmin.ctx),
    ).rejects.toMatchObject(escalation('ender'));
  });

  it('holds a service subject to the same rule, whoever the service is', async () => {
    const h = await anAuthzApp();
    await h.bus.run(h.useCases.createRole, role('assigner', ['role.assign']), h.asAdmin);
    for (const service of ['billing', 'user-service']) {
      await h.bus.run(
        h.useCases.assignRole,
        { subjectId: `service:${service}`, role: 'assigner' },
        h.asAdmin,
      );
      await expect(
        h.bus.run(
          h.useCases.assignRole,
          { subjectId: `service:${service}`, role: 'admin' },
          aServiceCall(service),
        ),
      ).rejects.toMatchObject(escalation('admin'));
    }
  });

  it('answers NOT_FOUND for an unknown role before any escalation question', async () => {
    const h = await anAuthzApp();
    const helpdesk = await holderOf(h, 'helpdesk', ['role.assign']);
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId: h.playerId, role: 'ghost' }, helpdesk.ctx),
    ).rejects.toMatchObject({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' });
  });

  it('leaves the operator CLI (database credentials) free to assign anything', async () => {
    const h = await anAuthzApp();
    const cli = new AssignRoleHandler(
      h.repository,
      h.clock,
      NO_POLICY_LISTENER,
      OPERATOR_HOLDS_EVERYTHING,
    );
    const subjectId = aUserId();
    await cli.execute({ subjectId, role: 'admin' }, aServiceCall('authz-admin-cli'));
    expect((await h.repository.assignmentsOf(subjectId)).map((a) => a.role)).toEqual(['admin']);
  });
});

describe('CreateRole puts in only what the caller holds', () => {
  it('refuses * , a wildcard, an unheld grant or an inherited role beyond the caller', async () => {
    const h = await anAuthzApp();
    const creator = await holderOf(h, 'role-creator', ['role.create', 'game.join', 'user.read']);
    for (const [name, permissions, inherits] of [
      ['everything', ['*'], []],
      ['all-users', ['user.*'], []],
      ['mixed', ['game.join', 'session.end'], []],
      ['deputy', [], ['admin']],
      ['player-plus', [], ['player']],
    ] as const) {
      await expect(
        h.bus.run(h.useCases.createRole, role(name, [...permissions], [...inherits]), creator.ctx),
      ).rejects.toMatchObject(escalation(name));
      expect(await h.repository.findRole(name)).toBeUndefined();
    }
  });

  it('creates a role within the caller: held grants, narrower :own ones, a covered parent', async () => {
    const h = await anAuthzApp();
    const creator = await holderOf(h, 'role-creator', ['role.create', 'game.join', 'user.read']);
    const { value: created } = await h.bus.run(
      h.useCases.createRole,
      role('narrow', ['game.join', 'user.read:own'], ['guest']),
      creator.ctx,
    );
    expect(created.permissions).toEqual(['game.join', 'user.read:own']);
  });
});

describe('UpdateRole adds only what the caller holds', () => {
  it('refuses a role-editor putting * on its own role or making it inherit admin', async () => {
    const h = await anAuthzApp();
    const editor = await holderOf(h, 'role-editor', ['role.update']);
    const before = h.newEvents().length;
    await expect(
      h.bus.run(
        h.useCases.updateRole,
        {
          ...role('role-editor', ['role.update', '*']),
          updateMask: ['permissions'],
        },
        editor.ctx,
      ),
    ).rejects.toMatchObject(escalation('role-editor'));
    await expect(
      h.bus.run(
        h.useCases.updateRole,
        { ...role('role-editor', [], ['admin']), updateMask: ['inherits'] },
        editor.ctx,
      ),
    ).rejects.toMatchObject(escalation('role-editor'));
    expect(await h.repository.findRole('role-editor')).toMatchObject({
      permissions: ['role.update'],
      inherits: [],
    });
    expect(h.newEvents()).toHaveLength(before);
    expect((await h.model.decide(editor.userId, 'user.delete')).allowed).toBe(false);
  });

  it('lets it keep or drop grants it lacks while adding ones it holds', async () => {
    const h = await anAuthzApp();
    const editor = await holderOf(h, 'role-editor', ['role.update', 'game.join']);
    await h.bus.run(
      h.useCases.createRole,
      role('moderator', ['chat.mute', 'user.disable']),
      h.asAdmin,
    );
    const { value: kept } = await h.bus.run(
      h.useCases.updateRole,
      { ...role('moderator', ['chat.mute', 'user.disable', 'game.join']), updateMask: [] },
      editor.ctx,
    );
    expect(kept.permissions).toEqual(['chat.mute', 'game.join', 'user.disable']);
    const { value: dropped } = await h.bus.run(
      h.useCases.updateRole,
      { ...role('moderator', ['game.join']), updateMask: ['permissions'] },
      editor.ctx,
    );
    expect(dropped.permissions).toEqual(['game.join']);
    await expect(
      h.bus.run(
        h.useCases.updateRole,
        { ...role('moderator', ['game.join', 'user.disable']), updateMask: ['permissions'] },
        editor.ctx,
      ),
    ).rejects.toMatchObject(escalation('moderator'));
  });
});

describe('RevokeRole keeps someone holding *', () => {
  const lastAdmin = { kind: 'FAILED_PRECONDITION', reason: 'LAST_ADMIN' };

  it('refuses to revoke admin from the last admin, even by itself, and writes nothing', async () => {
    const h = await anAuthzApp();
    const before = h.newEvents().length;
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'admin' }, h.asAdmin),
    ).rejects.toMatchObject(lastAdmin);
    expect((await h.repository.assignmentsOf(h.adminId)).map((a) => a.role)).toEqual(['admin']);
    expect((await h.model.decide(h.adminId, 'user.delete')).allowed).toBe(true);
    expect(h.newEvents()).toHaveLength(before);
  });

  it('refuses it to a role.revoke holder too', async () => {
    const h = await anAuthzApp();
    const revoker = await holderOf(h, 'revoker', ['role.revoke']);
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'admin' }, revoker.ctx),
    ).rejects.toMatchObject(lastAdmin);
  });

  it('revokes admin while another subject holds *, through admin or a role inheriting it', async () => {
    const h = await anAuthzApp();
    await h.bus.run(h.useCases.createRole, role('deputy', [], ['admin']), h.asAdmin);
    const second = aUserId();
    await h.bus.run(h.useCases.assignRole, { subjectId: second, role: 'deputy' }, h.asAdmin);
    await h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'admin' }, h.asAdmin);
    expect((await h.model.decide(h.adminId, 'user.delete')).allowed).toBe(false);
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: second, role: 'deputy' }, aUserCall(second)),
    ).rejects.toMatchObject(lastAdmin);
  });

  it('does not count an admin whose assignment has lapsed', async () => {
    const h = await anAuthzApp();
    const expireTime = new Date(h.clock.now().getTime() + 60_000);
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: aUserId(), role: 'admin', expireTime },
      h.asAdmin,
    );
    h.clock.set(expireTime);
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'admin' }, h.asAdmin),
    ).rejects.toMatchObject(lastAdmin);
  });

  it('refuses to change or delete the only role through which anyone holds *', async () => {
    const h = await anAuthzApp();
    await h.bus.run(h.useCases.createRole, role('root', ['*']), h.asAdmin);
    await h.bus.run(h.useCases.createRole, role('deputy', [], ['admin']), h.asAdmin);
    const rootId = aUserId();
    await h.bus.run(h.useCases.assignRole, { subjectId: rootId, role: 'root' }, h.asAdmin);
    await h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'admin' }, h.asAdmin);
    const asRoot = aUserCall(rootId);
    const before = h.newEvents().length;
    await expect(
      h.bus.run(
        h.useCases.updateRole,
        { ...role('root', ['role.read']), updateMask: ['permissions'] },
        asRoot,
      ),
    ).rejects.toMatchObject({ ...lastAdmin, message: expect.stringMatching(/^changing root /) });
    await expect(h.bus.run(h.useCases.deleteRole, { name: 'root' }, asRoot)).rejects.toMatchObject({
      ...lastAdmin,
      message: expect.stringMatching(/^deleting root /),
    });
    expect(await h.repository.findRole('root')).toMatchObject({ permissions: ['*'] });
    expect(h.newEvents()).toHaveLength(before);
    // A role nobody holds may lose * freely; so may one whose holders keep it another way.
    await h.bus.run(h.useCases.deleteRole, { name: 'deputy' }, asRoot);
    await h.bus.run(h.useCases.assignRole, { subjectId: rootId, role: 'admin' }, asRoot);
    await h.bus.run(h.useCases.deleteRole, { name: 'root' }, asRoot);
    expect((await h.model.decide(rootId, 'user.delete')).allowed).toBe(true);
  });

  it('revokes other roles of the last admin freely', async () => {
    const h = await anAuthzApp();
    await h.bus.run(h.useCases.assignRole, { subjectId: h.adminId, role: 'player' }, h.asAdmin);
    await h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'player' }, h.asAdmin);
    expect((await h.repository.assignmentsOf(h.adminId)).map((a) => a.role)).toEqual(['admin']);
  });
});
