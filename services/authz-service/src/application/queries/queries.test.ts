import type { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import { anAuthzApp, type AuthzHarness } from '../../../test/support/harness.js';
import { aUserCall, aUserId } from '../../../test/support/mothers.js';

type Check = { subjectId: string; permission: string };
const checkAll = (h: AuthzHarness, checks: Check[], call: AuthzHarness['asService']) =>
  h.bus.run(h.useCases.checkPermissions, { checks }, call);

describe('CheckPermission', () => {
  it('answers any authenticated service about any subject', async () => {
    const h = await anAuthzApp();
    const decision = await h.bus.run(
      h.useCases.checkPermission,
      {
        subjectId: h.playerId,
        permission: 'session.end',
        resource: { type: 'session', id: 's1', ownerId: h.playerId },
      },
      h.asService,
    );
    expect(decision).toEqual({
      allowed: true,
      reason: 'role player grants session.end:own (owner matches)',
      revision: 0, // nothing written since the harness started
    });
  });

  it('answers a denial as a decision', async () => {
    const h = await anAuthzApp();
    const decision = await h.bus.run(
      h.useCases.checkPermission,
      { subjectId: h.playerId, permission: 'user.list' },
      h.asService,
    );
    expect(decision).toEqual({ allowed: false, reason: 'no role grants user.list', revision: 0 });
  });

  it('refuses an empty subject or a malformed permission', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(
        h.useCases.checkPermission,
        { subjectId: '', permission: 'session.end:own' },
        h.asService,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        { field: 'subject_id', description: 'is required' },
        { field: 'permission', description: expect.stringContaining('<resource>.<action>') },
      ],
    });
  });
});

describe('CheckPermission(s) with a user token carried by the service', () => {
  const denied = {
    kind: 'PERMISSION_DENIED',
    reason: 'PERMISSION_DENIED',
    message: 'missing permission permission.read',
  };

  it('answers a user about itself, whatever its roles', async () => {
    const h = await anAuthzApp();
    const guestId = aUserId();
    await h.bus.run(h.useCases.assignRole, { subjectId: guestId, role: 'guest' }, h.asAdmin);
    const decision = await h.bus.run(
      h.useCases.checkPermission,
      { subjectId: guestId, permission: 'game.join' },
      aUserCall(guestId),
    );
    expect(decision.allowed).toBe(false);
  });

  it('refuses a player asking about another subject, naming no role of it', async () => {
    const h = await anAuthzApp();
    for (const subjectId of [h.adminId, 'service:billing']) {
      const error = await h.bus
        .run(h.useCases.checkPermission, { subjectId, permission: 'role.assign' }, h.asPlayer)
        .catch((e: unknown) => e as AppError);
      expect(error).toMatchObject(denied);
      expect((error as AppError).message).not.toMatch(/admin|role /);
    }
    await expect(
      checkAll(
        h,
        [
          { subjectId: h.playerId, permission: 'game.join' },
          { subjectId: h.adminId, permission: 'user.delete' },
        ],
        h.asPlayer,
      ),
    ).rejects.toMatchObject(denied);
  });

  it('answers about anyone to a user holding permission.read', async () => {
    const h = await anAuthzApp();
    const results = await checkAll(
      h,
      [
        { subjectId: h.playerId, permission: 'game.join' },
        { subjectId: h.adminId, permission: 'user.delete' },
      ],
      h.asAdmin,
    );
    expect(results.map((r) => r.allowed)).toEqual([true, true]);
  });
});

describe('CheckPermissions', () => {
  it('answers in request order', async () => {
    const h = await anAuthzApp();
    const results = await checkAll(
      h,
      [
        { subjectId: h.playerId, permission: 'game.join' },
        { subjectId: h.playerId, permission: 'user.list' },
        { subjectId: h.adminId, permission: 'user.list' },
      ],
      h.asService,
    );
    expect(results.map((r) => r.allowed)).toEqual([true, false, true]);
  });

  it('refuses an empty batch, more than 100, and names each bad check', async () => {
    const h = await anAuthzApp();
    await expect(checkAll(h, [], h.asService)).rejects.toMatchObject({
      violations: [{ field: 'checks', description: 'must hold 1..100 checks' }],
    });
    const many = Array.from({ length: 101 }, () => ({
      subjectId: h.playerId,
      permission: 'game.join',
    }));
    await expect(checkAll(h, many, h.asService)).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
    });
    await expect(
      checkAll(
        h,
        [
          { subjectId: h.playerId, permission: 'game.join' },
          { subjectId: h.playerId, permission: 'join' },
        ],
        h.asService,
      ),
    ).rejects.toMatchObject({
      violations: [{ field: 'checks[1].permission', description: expect.any(String) }],
    });
  });
});

describe('ListSubjectPermissions', () => {
  it('lists a subject its own roles and grants', async () => {
    const h = await anAuthzApp();
    const access = await h.bus.run(
      h.useCases.listSubjectPermissions,
      { subjectId: h.playerId },
      h.asPlayer,
    );
    expect(access.roles).toEqual(['guest', 'player']);
    expect(access.permissions).toContain('session.end:own');
  });

  it("keeps a player out of someone else's, lets an admin in", async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.listSubjectPermissions, { subjectId: h.adminId }, h.asPlayer),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
    expect(
      (await h.bus.run(h.useCases.listSubjectPermissions, { subjectId: h.playerId }, h.asAdmin))
        .roles,
    ).toEqual(['guest', 'player']);
  });
});

describe('GetRole and ListRoles', () => {
  it('gets one role, or NOT_FOUND', async () => {
    const h = await anAuthzApp();
    expect(await h.bus.run(h.useCases.getRole, { name: 'player' }, h.asAdmin)).toMatchObject({
      name: 'player',
      inherits: ['guest'],
      builtIn: true,
    });
    await expect(h.bus.run(h.useCases.getRole, { name: 'ghost' }, h.asAdmin)).rejects.toMatchObject(
      { reason: 'ROLE_NOT_FOUND' },
    );
    await expect(
      h.bus.run(h.useCases.getRole, { name: 'player' }, h.asPlayer),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED' });
  });

  it('pages through roles by name', async () => {
    const h = await anAuthzApp();
    const first = await h.bus.run(h.useCases.listRoles, { pageSize: 2, pageToken: '' }, h.asAdmin);
    expect(first.roles.map((r) => r.name)).toEqual(['admin', 'guest']);
    const second = await h.bus.run(
      h.useCases.listRoles,
      { pageSize: 2, pageToken: first.nextPageToken },
      h.asAdmin,
    );
    expect(second.roles.map((r) => r.name)).toEqual(['player']);
    expect(second.nextPageToken).toBe('');
  });

  it('refuses a token it did not issue and a negative page size', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(h.useCases.listRoles, { pageSize: 0, pageToken: 'garbage' }, h.asAdmin),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      reason: 'INVALID_PAGE_TOKEN',
      violations: [{ field: 'page_token', description: expect.any(String) }],
    });
    await expect(
      h.bus.run(h.useCases.listRoles, { pageSize: -1, pageToken: '' }, h.asAdmin),
    ).rejects.toMatchObject({
      violations: [{ field: 'page_size', description: 'must not be negative' }],
    });
  });
});

describe('ListRoleAssignments', () => {
  it('filters by role and subject, pages in (subject_id, role) order, and leaves out lapsed grants', async () => {
    const h = await anAuthzApp();
    const subjects = [aUserId(), aUserId(), aUserId()].sort();
    for (const subjectId of subjects)
      await h.bus.run(h.useCases.assignRole, { subjectId, role: 'guest' }, h.asAdmin);
    const lapsing = aUserId();
    await h.bus.run(
      h.useCases.assignRole,
      { subjectId: lapsing, role: 'guest', expireTime: new Date(h.clock.now().getTime() + 1000) },
      h.asAdmin,
    );
    h.clock.advance(1000);

    const first = await h.bus.run(
      h.useCases.listRoleAssignments,
      { subjectId: '', role: 'guest', pageSize: 2, pageToken: '' },
      h.asAdmin,
    );
    const second = await h.bus.run(
      h.useCases.listRoleAssignments,
      { subjectId: '', role: 'guest', pageSize: 2, pageToken: first.nextPageToken },
      h.asAdmin,
    );
    expect([...first.assignments, ...second.assignments].map((a) => a.subjectId)).toEqual(subjects);
    expect(second.nextPageToken).toBe('');

    const bySubject = await h.bus.run(
      h.useCases.listRoleAssignments,
      { subjectId: h.playerId, role: '', pageSize: 0, pageToken: '' },
      h.asAdmin,
    );
    expect(bySubject.assignments.map((a) => a.role)).toEqual(['player']);
  });

  it('refuses a token issued for other filters', async () => {
    const h = await anAuthzApp();
    for (let i = 0; i < 3; i++)
      await h.bus.run(h.useCases.assignRole, { subjectId: aUserId(), role: 'guest' }, h.asAdmin);
    const page = await h.bus.run(
      h.useCases.listRoleAssignments,
      { subjectId: '', role: 'guest', pageSize: 1, pageToken: '' },
      h.asAdmin,
    );
    await expect(
      h.bus.run(
        h.useCases.listRoleAssignments,
        { subjectId: '', role: 'player', pageSize: 1, pageToken: page.nextPageToken },
        h.asAdmin,
      ),
    ).rejects.toMatchObject({ reason: 'INVALID_PAGE_TOKEN' });
  });

  it('is for role.read holders only', async () => {
    const h = await anAuthzApp();
    await expect(
      h.bus.run(
        h.useCases.listRoleAssignments,
        { subjectId: h.playerId, role: '', pageSize: 0, pageToken: '' },
        h.asPlayer,
      ),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED' });
  });
});
