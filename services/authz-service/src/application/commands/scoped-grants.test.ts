import { describe, expect, it } from 'vitest';
import { anAuthzApp, type AuthzHarness } from '../../../test/support/harness.js';
import { aUserCall, aUserId } from '../../../test/support/mothers.js';

const guild = (id: string) => ({ type: 'guild', id });

/** The admin makes the catalogue: a moderator, and a guild admin who may hand out roles on a guild. */
async function withGuildRoles(h: AuthzHarness) {
  const create = (name: string, permissions: string[], inherits: string[] = []) =>
    h.bus.run(h.useCases.createRole, { name, description: name, permissions, inherits }, h.asAdmin);
  await create('moderator', ['guild.ban', 'guild.kick']);
  await create('guild_admin', ['role.assign', 'role.revoke', 'guild.*']);
  await create('deleter', ['guild.ban', 'user.delete']);
}

/** A fresh user holding `role` on `scope` (given by the admin); returns its call context. */
async function holderOn(h: AuthzHarness, role: string, scope?: { type: string; id: string }) {
  const userId = aUserId();
  await h.bus.run(
    h.useCases.assignRole,
    { subjectId: userId, role, ...(scope ? { scope } : {}) },
    h.asAdmin,
  );
  return { userId, ctx: aUserCall(userId) };
}

const denied = { kind: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED' };

describe('AssignRole on a scope', () => {
  it('grants the role on that resource only, announced with the scope', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const subjectId = aUserId();
    const { value } = await h.bus.run(
      h.useCases.assignRole,
      { subjectId, role: 'moderator', scope: guild('42') },
      h.asAdmin,
    );
    expect(value).toEqual({
      subjectId,
      role: 'moderator',
      scope: guild('42'),
      createTime: h.clock.now(),
    });
    expect(h.newEvents().at(-1)).toMatchObject({
      type: 'role_assigned',
      assignment: { subjectId, role: 'moderator', scope: guild('42') },
    });
    expect(await h.model.decide(subjectId, 'guild.ban', guild('42'))).toEqual({
      allowed: true,
      reason: 'role moderator on guild:42 grants guild.ban',
    });
    expect((await h.model.decide(subjectId, 'guild.ban', guild('43'))).allowed).toBe(false);
    expect((await h.model.decide(subjectId, 'guild.ban')).allowed).toBe(false);
  });

  it('keeps the role unscoped and on several scopes as separate assignments; again on one replaces it', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const subjectId = aUserId();
    const assign = (extra: object) =>
      h.bus.run(h.useCases.assignRole, { subjectId, role: 'moderator', ...extra }, h.asAdmin);
    const soon = new Date(h.clock.now().getTime() + 60_000);
    await assign({ scope: guild('1'), expireTime: soon });
    await assign({ scope: guild('2') });
    await assign({});
    await assign({ scope: guild('1') });
    const held = await h.repository.assignmentsOf(subjectId);
    expect(held.map((a) => [a.scope?.id ?? '', a.expireTime])).toEqual([
      ['', undefined],
      ['1', undefined],
      ['2', undefined],
    ]);
    h.clock.advance(120_000);
    expect((await h.model.decide(subjectId, 'guild.ban', guild('1'))).allowed).toBe(true);
  });

  it('refuses a malformed scope with field violations and writes nothing', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const subjectId = aUserId();
    const before = h.newEvents().length;
    for (const [scope, violations] of [
      [{ type: '', id: '' }, ['scope.type', 'scope.id']],
      [{ type: 'Guild', id: '42' }, ['scope.type']],
      [{ type: 'guild', id: 'x'.repeat(129) }, ['scope.id']],
      [{ type: 'guild', id: 'a\u0000b' }, ['scope.id']],
    ] as const) {
      await expect(
        h.bus.run(h.useCases.assignRole, { subjectId, role: 'moderator', scope }, h.asAdmin),
      ).rejects.toMatchObject({
        kind: 'INVALID_ARGUMENT',
        violations: violations.map((field) => ({ field, description: expect.any(String) })),
      });
    }
    expect(h.newEvents()).toHaveLength(before);
  });
});

describe('delegation within a scope', () => {
  it('lets a guild admin hand out what it holds there, on its guild only', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const admin1 = await holderOn(h, 'guild_admin', guild('1'));
    const subjectId = aUserId();
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId, role: 'moderator', scope: guild('1') },
      admin1.ctx,
    );
    expect((await h.model.decide(subjectId, 'guild.kick', guild('1'))).allowed).toBe(true);
    // Another guild, or everywhere: role.assign is held on guild:1 only.
    await expect(
      h.bus.run(
        h.useCases.assignRole,
        { subjectId, role: 'moderator', scope: guild('2') },
        admin1.ctx,
      ),
    ).rejects.toMatchObject(denied);
    await expect(
      h.bus.run(h.useCases.assignRole, { subjectId, role: 'moderator' }, admin1.ctx),
    ).rejects.toMatchObject(denied);
    // Revoking follows the same rule.
    await expect(
      h.bus.run(
        h.useCases.revokeRole,
        { subjectId, role: 'moderator', scope: guild('2') },
        admin1.ctx,
      ),
    ).rejects.toMatchObject(denied);
    await h.bus.run(
      h.useCases.revokeRole,
      { subjectId, role: 'moderator', scope: guild('1') },
      admin1.ctx,
    );
    expect(await h.repository.assignmentsOf(subjectId)).toEqual([]);
  });

  it('refuses a scoped admin a role granting more than it holds there', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const admin1 = await holderOn(h, 'guild_admin', guild('1'));
    await expect(
      h.bus.run(
        h.useCases.assignRole,
        { subjectId: aUserId(), role: 'deleter', scope: guild('1') },
        admin1.ctx,
      ),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'ESCALATION_DENIED',
      message: 'role deleter on guild:1 grants more than you hold',
    });
    // Its grants on guild:1 do not count for an assignment on guild:2, even with role.assign there.
    const both = await holderOn(h, 'guild_admin', guild('1'));
    await h.bus.run(
      h.useCases.createRole,
      { name: 'assigner', description: 'x', permissions: ['role.assign'], inherits: [] },
      h.asAdmin,
    );
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: both.userId, role: 'assigner', scope: guild('2') },
      h.asAdmin,
    );
    await expect(
      h.bus.run(
        h.useCases.assignRole,
        { subjectId: aUserId(), role: 'moderator', scope: guild('2') },
        both.ctx,
      ),
    ).rejects.toMatchObject({ reason: 'ESCALATION_DENIED' });
  });

  it('lets a caller holding role.assign and the grants unscoped assign on any scope', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const helpdesk = await holderOn(h, 'guild_admin');
    const subjectId = aUserId();
    for (const id of ['1', '2'])
      await h.bus.run(
        h.useCases.assignRole,
        { subjectId, role: 'moderator', scope: guild(id) },
        helpdesk.ctx,
      );
    expect((await h.repository.assignmentsOf(subjectId)).map((a) => a.scope)).toEqual([
      guild('1'),
      guild('2'),
    ]);
  });
});

describe('RevokeRole on a scope', () => {
  it('revokes that assignment only, announced with its scope; one not held there is a quiet success', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const subjectId = aUserId();
    for (const extra of [{}, { scope: guild('1') }, { scope: guild('2') }])
      await h.bus.run(h.useCases.assignRole, { subjectId, role: 'moderator', ...extra }, h.asAdmin);
    const before = h.newEvents().length;
    await h.bus.run(
      h.useCases.revokeRole,
      { subjectId, role: 'moderator', scope: guild('1') },
      h.asAdmin,
    );
    expect(h.newEvents().slice(before)).toMatchObject([
      { type: 'role_revoked', subjectId, role: 'moderator', scope: guild('1'), reason: 'REVOKED' },
    ]);
    expect((await h.model.decide(subjectId, 'guild.ban', guild('1'))).reason).toBe(
      'role moderator grants guild.ban',
    );
    await h.bus.run(
      h.useCases.revokeRole,
      { subjectId, role: 'moderator', scope: guild('1') },
      h.asAdmin,
    );
    expect(h.newEvents()).toHaveLength(before + 1);
    // Unset scope: the unscoped assignment.
    await h.bus.run(h.useCases.revokeRole, { subjectId, role: 'moderator' }, h.asAdmin);
    expect((await h.repository.assignmentsOf(subjectId)).map((a) => a.scope)).toEqual([guild('2')]);
  });

  it('refuses a malformed scope', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(
        h.useCases.revokeRole,
        { subjectId: h.playerId, role: 'player', scope: { type: 'guild', id: '' } },
        h.asAdmin,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'scope.id', description: 'is required' }],
    });
  });

  it('counts only unscoped holders of * as admins', async () => {
    const h = await anAuthzApp();
    const scopedAdmin = aUserId();
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: scopedAdmin, role: 'admin', scope: guild('1') },
      h.asAdmin,
    );
    // A scoped admin is no admin: the last unscoped one stays.
    await expect(
      h.bus.run(h.useCases.revokeRole, { subjectId: h.adminId, role: 'admin' }, h.asAdmin),
    ).rejects.toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'LAST_ADMIN' });
    // And a scoped admin can always go.
    await h.bus.run(
      h.useCases.revokeRole,
      { subjectId: scopedAdmin, role: 'admin', scope: guild('1') },
      h.asAdmin,
    );
    expect(await h.repository.assignmentsOf(scopedAdmin)).toEqual([]);
  });
});

describe('reading scoped assignments', () => {
  it('lists them by subject, role, then scope (unscoped first), filtered by scope, in keyset pages', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    const subjectId = aUserId();
    for (const extra of [
      { scope: guild('b') },
      {},
      { scope: { type: 'clan', id: 'z' } },
      { scope: guild('a') },
    ])
      await h.bus.run(h.useCases.assignRole, { subjectId, role: 'moderator', ...extra }, h.asAdmin);
    const list = (pageToken = '', scope?: { type: string; id: string }) =>
      h.bus.run(
        h.useCases.listRoleAssignments,
        { subjectId, role: 'moderator', pageSize: 2, pageToken, ...(scope ? { scope } : {}) },
        h.asAdmin,
      );
    const first = await list();
    const second = await list(first.nextPageToken);
    expect([...first.assignments, ...second.assignments].map((a) => a.scope)).toEqual([
      undefined,
      { type: 'clan', id: 'z' },
      guild('a'),
      guild('b'),
    ]);
    expect(second.nextPageToken).toBe('');
    expect((await list('', guild('a'))).assignments.map((a) => a.scope)).toEqual([guild('a')]);
    // A token is bound to its filters.
    await expect(list(first.nextPageToken, guild('a'))).rejects.toMatchObject({
      reason: 'INVALID_PAGE_TOKEN',
    });
    await expect(list('', { type: '', id: 'a' })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'scope.type', description: 'is required' }],
    });
  });

  it('shows unscoped roles as before and one entry per scope in ListSubjectPermissions', async () => {
    const h = await anAuthzApp();
    await withGuildRoles(h);
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: h.playerId, role: 'moderator', scope: guild('42') },
      h.asAdmin,
    );
    const access = await h.bus.run(
      h.useCases.listSubjectPermissions,
      { subjectId: h.playerId },
      h.asAdmin,
    );
    expect(access.roles).toEqual(['guest', 'player']);
    expect(access.permissions).not.toContain('guild.ban');
    expect(access.scoped).toEqual([
      { scope: guild('42'), roles: ['moderator'], permissions: ['guild.ban', 'guild.kick'] },
    ]);
  });
});
