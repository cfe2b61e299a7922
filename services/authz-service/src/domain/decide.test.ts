import { describe, expect, it } from 'vitest';
import { aRole, anAssignment, aUserId, T0 } from '../../test/support/mothers.js';
import type { RoleAssignment } from './assignment.js';
import { decide, effectiveAccess, scopedAccess } from './decide.js';
import { builtInRoles, type Role } from './role.js';
import { RoleCatalogue } from './role-catalogue.js';

const later = (ms: number) => new Date(T0.getTime() + ms);

function policy(extraRoles: Role[] = []) {
  const catalogue = new RoleCatalogue([...builtInRoles(T0), ...extraRoles]);
  return (
    subjectId: string,
    held: RoleAssignment[],
    permission: string,
    resource?: { type?: string; id?: string; ownerId?: string },
    now = T0,
  ) => decide(catalogue, held, subjectId, permission, resource, now);
}

describe('decide', () => {
  const me = aUserId();
  const someoneElse = aUserId();
  const asPlayer = [anAssignment({ subjectId: me, role: 'player' })];

  it('allows an exact grant and names the role and grant', () => {
    expect(policy()(me, asPlayer, 'game.join', { type: 'game' })).toEqual({
      allowed: true,
      reason: 'role player grants game.join',
    });
  });

  it('allows an :own grant when the subject owns the resource', () => {
    expect(
      policy()(me, asPlayer, 'session.end', { type: 'session', id: 's1', ownerId: me }),
    ).toEqual({
      allowed: true,
      reason: 'role player grants session.end:own (owner matches)',
    });
  });

  it("refuses an :own grant on someone else's resource, saying why", () => {
    const decision = policy()(me, asPlayer, 'session.end', {
      type: 'session',
      id: 's1',
      ownerId: someoneElse,
    });
    expect(decision.allowed).toBe(false);
    expect(decision.reason).toBe(
      'session.end:own needs owner_id == subject_id, but it is owned by someone else',
    );
  });

  it('refuses an :own grant when the resource names no owner', () => {
    const decision = policy()(me, asPlayer, 'user.read', { type: 'user' });
    expect(decision).toEqual({
      allowed: false,
      reason: 'user.read:own needs owner_id == subject_id, but the resource names no owner',
    });
  });

  it('names the inherited role a grant comes from', () => {
    const guestOnly = policy()(me, [anAssignment({ subjectId: me, role: 'guest' })], 'user.read', {
      ownerId: me,
    });
    expect(guestOnly.reason).toBe('role guest grants user.read:own (owner matches)');
    const viaInheritance = policy([
      aRole({ name: 'reader', permissions: [], inherits: ['guest'] }),
    ]);
    expect(
      viaInheritance(me, [anAssignment({ subjectId: me, role: 'reader' })], 'user.read', {
        ownerId: me,
      }).reason,
    ).toBe('role reader grants user.read:own via guest (owner matches)');
  });

  it('lets * allow everything, for anyone', () => {
    const asAdmin = [anAssignment({ subjectId: me, role: 'admin' })];
    expect(
      policy()(me, asAdmin, 'user.disable', {
        type: 'user',
        id: someoneElse,
        ownerId: someoneElse,
      }),
    ).toEqual({
      allowed: true,
      reason: 'role admin grants *',
    });
  });

  it('lets <resource>.* allow every action on that resource only', () => {
    const check = policy([aRole({ name: 'session-admin', permissions: ['session.*'] })]);
    const held = [anAssignment({ subjectId: me, role: 'session-admin' })];
    expect(check(me, held, 'session.end', { ownerId: someoneElse }).allowed).toBe(true);
    expect(check(me, held, 'session.list', {}).reason).toBe('role session-admin grants session.*');
    expect(check(me, held, 'user.disable', {}).allowed).toBe(false);
  });

  it('scopes wildcards with :own too', () => {
    const check = policy([aRole({ name: 'self-service', permissions: ['user.*:own', '*:own'] })]);
    const held = [anAssignment({ subjectId: me, role: 'self-service' })];
    expect(check(me, held, 'user.delete', { ownerId: me }).reason).toBe(
      'role self-service grants user.*:own (owner matches)',
    );
    expect(check(me, held, 'game.leave', { ownerId: me }).reason).toBe(
      'role self-service grants *:own (owner matches)',
    );
    expect(check(me, held, 'user.delete', { ownerId: someoneElse }).allowed).toBe(false);
  });

  it('prefers an unscoped grant of a later role to an :own grant that does not apply', () => {
    const check = policy([aRole({ name: 'support', permissions: ['session.end'] })]);
    const held = [
      anAssignment({ subjectId: me, role: 'player' }),
      anAssignment({ subjectId: me, role: 'support' }),
    ];
    expect(check(me, held, 'session.end', { ownerId: someoneElse })).toEqual({
      allowed: true,
      reason: 'role support grants session.end',
    });
  });

  it('denies what no role grants', () => {
    expect(policy()(me, asPlayer, 'user.disable', {})).toEqual({
      allowed: false,
      reason: 'no role grants user.disable',
    });
    expect(policy()(me, [], 'game.join', {})).toEqual({
      allowed: false,
      reason: 'subject holds no role (none grants game.join)',
    });
  });

  it('lets a time-limited grant lapse at its expire_time, sweeper or not', () => {
    const held = [anAssignment({ subjectId: me, role: 'admin', expireTime: later(60_000) })];
    expect(policy()(me, held, 'user.disable', {}, later(59_999)).allowed).toBe(true);
    expect(policy()(me, held, 'user.disable', {}, later(60_000)).allowed).toBe(false);
  });

  it('ignores assignments of roles that no longer exist', () => {
    expect(
      policy()(me, [anAssignment({ subjectId: me, role: 'deleted-role' })], 'game.join', {})
        .allowed,
    ).toBe(false);
  });
});

describe('decide with step-up (@aal2) grants', () => {
  const me = aUserId();
  const other = aUserId();
  const stepUp = aRole({
    name: 'careful',
    permissions: ['user.delete@aal2', 'user.remove_mfa:own@aal2', 'game.*@aal2'],
  });
  const check = policy([stepUp]);
  const held = [anAssignment({ subjectId: me, role: 'careful' })];
  const at = (aal2: boolean, permission: string, ownerId?: string) =>
    decide(
      new RoleCatalogue([...builtInRoles(T0), stepUp]),
      held,
      me,
      permission,
      { type: permission.split('.')[0], ...(ownerId ? { ownerId } : {}) },
      T0,
      aal2,
    );

  it('allows an @aal2 grant at AAL2 and says so', () => {
    expect(at(true, 'user.delete')).toEqual({
      allowed: true,
      reason: 'role careful grants user.delete@aal2 at AAL2',
    });
    expect(at(true, 'game.join').allowed).toBe(true);
  });

  it('refuses it below AAL2 as a step-up, not as a missing grant', () => {
    expect(at(false, 'user.delete')).toEqual({
      allowed: false,
      reason: 'user.delete@aal2 needs a session completed with a second factor (AAL2)',
      stepUpRequired: true,
    });
    // decide's default is AAL1: a caller that passes no level never gets an @aal2 grant.
    expect(check(me, held, 'user.delete', { type: 'user' }).stepUpRequired).toBe(true);
  });

  it('applies :own@aal2 only to the owner, and only at AAL2', () => {
    expect(at(true, 'user.remove_mfa', me).allowed).toBe(true);
    expect(at(false, 'user.remove_mfa', me).stepUpRequired).toBe(true);
    const others = at(true, 'user.remove_mfa', other);
    expect(others.allowed).toBe(false);
    expect(others.stepUpRequired).toBeUndefined();
    expect(others.reason).toContain('needs owner_id == subject_id');
  });

  it('lets an unsuffixed grant of another role allow at any level', () => {
    const both = [...held, anAssignment({ subjectId: me, role: 'admin' })];
    expect(check(me, both, 'user.delete', { type: 'user' }).allowed).toBe(true);
  });

  it('gives players their own TOTP enrolment at any level and its removal only at AAL2', () => {
    const player = [anAssignment({ subjectId: me, role: 'player' })];
    const catalogue = new RoleCatalogue(builtInRoles(T0));
    const mine = { type: 'user', id: me, ownerId: me };
    expect(decide(catalogue, player, me, 'user.manage_mfa', mine, T0).allowed).toBe(true);
    expect(decide(catalogue, player, me, 'user.remove_mfa', mine, T0).stepUpRequired).toBe(true);
    expect(decide(catalogue, player, me, 'user.remove_mfa', mine, T0, true).allowed).toBe(true);
    const theirs = { type: 'user', id: other, ownerId: other };
    expect(decide(catalogue, player, me, 'user.manage_mfa', theirs, T0).allowed).toBe(false);
  });
});

describe('the built-in roles against the permissions the services check', () => {
  const me = aUserId();
  const other = aUserId();
  const check = policy();
  const player = [anAssignment({ subjectId: me, role: 'player' })];
  const admin = [anAssignment({ subjectId: me, role: 'admin' })];
  const guest = [anAssignment({ subjectId: me, role: 'guest' })];

  // Permission and resource shape of each user-scoped RPC, as its proto comment states.
  const own = (type: string) => ({ type, id: 'x', ownerId: me });
  const others = (type: string) => ({ type, id: 'x', ownerId: other });
  const rpcs: Array<[string, string, (type: string) => object, string]> = [
    ['GetUser', 'user.read', own, 'user'],
    ['UpdateUser', 'user.update', own, 'user'],
    ['ChangePassword', 'user.change_password', own, 'user'],
    ['GetSession', 'session.read', own, 'session'],
    ['ListActiveSessions', 'session.list', own, 'session'],
    ['EndSession', 'session.end', own, 'session'],
    ['EndUserSessions', 'session.end', own, 'session'],
    ['ListSubjectPermissions', 'permission.read', own, 'subject'],
  ];

  it.each(rpcs)('a player may %s on their own things (%s)', (_rpc, permission, resource, type) => {
    expect(check(me, player, permission, resource(type)).allowed).toBe(true);
  });

  it.each(rpcs)(
    "a player may not %s on someone else's (%s)",
    (_rpc, permission, _resource, type) => {
      expect(check(me, player, permission, others(type)).allowed).toBe(false);
    },
  );

  it.each([
    ['ListUsers', 'user.list'],
    ['DisableUser', 'user.disable'],
    ['EnableUser', 'user.enable'],
    ['DeleteUser', 'user.delete'],
    ['AssignRole', 'role.assign'],
    ['RevokeRole', 'role.revoke'],
    ['CreateRole', 'role.create'],
    ['ListRoles', 'role.read'],
    ['ListAuditEvents', 'audit.read'],
  ])('a player may not %s (%s), an admin may', (_rpc, permission) => {
    expect(
      check(me, player, permission, { type: permission.split('.')[0], ownerId: me }).allowed,
    ).toBe(false);
    expect(
      check(me, admin, permission, { type: permission.split('.')[0], ownerId: other }).allowed,
    ).toBe(true);
  });

  it('a player may start sessions and join games; a guest only reads its own user', () => {
    expect(check(me, player, 'session.create', { type: 'session' }).allowed).toBe(true);
    expect(check(me, player, 'game.join', { type: 'game' }).allowed).toBe(true);
    expect(check(me, guest, 'user.read', own('user')).allowed).toBe(true);
    expect(check(me, guest, 'user.update', own('user')).allowed).toBe(false);
    expect(check(me, guest, 'game.join', { type: 'game' }).allowed).toBe(false);
  });
});

describe('effectiveAccess', () => {
  it('lists held and inherited roles and every grant, leaving out lapsed assignments', () => {
    const catalogue = new RoleCatalogue(builtInRoles(T0));
    const me = aUserId();
    const held = [
      anAssignment({ subjectId: me, role: 'player' }),
      anAssignment({ subjectId: me, role: 'admin', expireTime: T0 }),
    ];
    const access = effectiveAccess(catalogue, held, T0);
    expect(access.roles).toEqual(['guest', 'player']);
    expect(access.permissions).toContain('game.join');
    expect(access.permissions).not.toContain('*');
    expect(access.permissions).toEqual([...access.permissions].sort());
  });
});

describe('decide with scoped assignments', () => {
  const me = aUserId();
  const other = aUserId();
  const guild42 = { type: 'guild', id: '42' };
  const moderator = aRole({
    name: 'moderator',
    permissions: ['guild.ban', 'guild.kick:own', 'guild.delete@aal2'],
    inherits: ['member'],
  });
  const member = aRole({ name: 'member', permissions: ['guild.post'], inherits: [] });
  const owner = aRole({ name: 'owner', permissions: ['guild.*'], inherits: [] });
  const catalogue = new RoleCatalogue([...builtInRoles(T0), moderator, member, owner]);
  const check = (
    held: RoleAssignment[],
    permission: string,
    resource?: { type?: string; id?: string; ownerId?: string },
    aal2 = false,
    now = T0,
  ) => decide(catalogue, held, me, permission, resource, now, aal2);
  const modOn42 = [anAssignment({ subjectId: me, role: 'moderator', scope: guild42 })];

  it('applies a scoped grant to exactly its resource and names the scope', () => {
    expect(check(modOn42, 'guild.ban', { type: 'guild', id: '42' })).toEqual({
      allowed: true,
      reason: 'role moderator on guild:42 grants guild.ban',
    });
  });

  it('does not apply it to another id, another type with that id, or no resource', () => {
    for (const resource of [
      { type: 'guild', id: '43' },
      { type: 'channel', id: '42' },
      { type: 'guild' },
      undefined,
    ]) {
      expect(check(modOn42, 'guild.ban', resource)).toEqual({
        allowed: false,
        reason: 'role moderator grants guild.ban only on guild:42',
      });
    }
  });

  it('carries inheritance and wildcards to the scope only', () => {
    expect(check(modOn42, 'guild.post', guild42)).toEqual({
      allowed: true,
      reason: 'role moderator on guild:42 grants guild.post via member',
    });
    expect(check(modOn42, 'guild.post', { type: 'guild', id: '7' }).allowed).toBe(false);
    const ownerOn7 = [
      anAssignment({ subjectId: me, role: 'owner', scope: { type: 'guild', id: '7' } }),
    ];
    expect(check(ownerOn7, 'guild.rename', { type: 'guild', id: '7' }).reason).toBe(
      'role owner on guild:7 grants guild.*',
    );
    expect(check(ownerOn7, 'guild.rename', guild42).allowed).toBe(false);
    const adminOn7 = [
      anAssignment({ subjectId: me, role: 'admin', scope: { type: 'guild', id: '7' } }),
    ];
    expect(check(adminOn7, 'user.delete', { type: 'user', id: '7' }).allowed).toBe(false);
    expect(check(adminOn7, 'user.delete', { type: 'guild', id: '7' }).allowed).toBe(true);
  });

  it('needs the owner for a scoped :own grant, and AAL2 for a scoped @aal2 grant', () => {
    expect(check(modOn42, 'guild.kick', { ...guild42, ownerId: me })).toEqual({
      allowed: true,
      reason: 'role moderator on guild:42 grants guild.kick:own (owner matches)',
    });
    expect(check(modOn42, 'guild.kick', { ...guild42, ownerId: other }).reason).toBe(
      'guild.kick:own needs owner_id == subject_id, but it is owned by someone else',
    );
    expect(check(modOn42, 'guild.delete', guild42)).toMatchObject({
      allowed: false,
      stepUpRequired: true,
    });
    expect(check(modOn42, 'guild.delete', guild42, true)).toEqual({
      allowed: true,
      reason: 'role moderator on guild:42 grants guild.delete@aal2 at AAL2',
    });
    expect(check(modOn42, 'guild.delete', { type: 'guild', id: '1' }, true).allowed).toBe(false);
  });

  it('lets an unscoped assignment apply everywhere beside scoped ones, and scoped ones lapse', () => {
    const both = [
      ...modOn42,
      anAssignment({ subjectId: me, role: 'member' }),
      anAssignment({
        subjectId: me,
        role: 'owner',
        scope: guild42,
        expireTime: new Date(T0.getTime() + 1_000),
      }),
    ];
    expect(check(both, 'guild.post', { type: 'guild', id: '9' }).reason).toBe(
      'role member grants guild.post',
    );
    expect(check(both, 'guild.rename', guild42).allowed).toBe(true);
    expect(
      check(both, 'guild.rename', guild42, false, new Date(T0.getTime() + 1_000)).allowed,
    ).toBe(false);
  });
});

describe('effectiveAccess and scopedAccess with scopes', () => {
  it('keep unscoped roles apart and list one entry per scope, ordered by type then id', () => {
    const me = aUserId();
    const catalogue = new RoleCatalogue([...builtInRoles(T0), aRole({ name: 'moderator' })]);
    const held = [
      anAssignment({ subjectId: me, role: 'player' }),
      anAssignment({ subjectId: me, role: 'moderator', scope: { type: 'guild', id: '9' } }),
      anAssignment({ subjectId: me, role: 'guest', scope: { type: 'guild', id: '10' } }),
      anAssignment({ subjectId: me, role: 'moderator', scope: { type: 'guild', id: '10' } }),
      anAssignment({ subjectId: me, role: 'admin', scope: { type: 'clan', id: 'z' } }),
      anAssignment({
        subjectId: me,
        role: 'admin',
        scope: { type: 'clan', id: 'a' },
        expireTime: T0,
      }),
    ];
    expect(effectiveAccess(catalogue, held, T0).roles).toEqual(['guest', 'player']);
    expect(scopedAccess(catalogue, held, T0)).toEqual([
      { scope: { type: 'clan', id: 'z' }, roles: ['admin'], permissions: ['*'] },
      {
        scope: { type: 'guild', id: '10' },
        roles: ['guest', 'moderator'],
        permissions: ['chat.mute', 'session.read', 'user.read:own'],
      },
      {
        scope: { type: 'guild', id: '9' },
        roles: ['moderator'],
        permissions: ['chat.mute', 'session.read'],
      },
    ]);
  });
});
