import { randomUUID } from 'node:crypto';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { AppError } from '@warden/errors';
import { callUnary, createClient } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../src/adapters/memory/memory-authz-repository.js';
import { newAssignment } from '../src/domain/index.js';
import { aUserId, T0 } from './support/mothers.js';
import { seed } from './support/seed.js';
import { SERVICE_KEYS, startAuthzServer } from './support/server.js';

type Started = Awaited<ReturnType<typeof startAuthzServer>>;
let started: Started;
let client: authzv1.AuthzServiceClient;
const adminId = aUserId();
const playerId = aUserId();
const ADMIN_TOKEN = 'wst_admin';
const PLAYER_TOKEN = 'wst_player';

const asAdmin: { bearerToken: string; requestId: string } = {
  bearerToken: ADMIN_TOKEN,
  requestId: randomUUID(),
};
const asPlayer = { bearerToken: PLAYER_TOKEN, requestId: randomUUID() };

function call<Req, Res>(
  method: (
    req: Req,
    md: Metadata,
    opts: object,
    cb: (e: ServiceError | null, r: Res) => void,
  ) => unknown,
  request: Req,
  ctx?: typeof asAdmin,
) {
  return callUnary(method as never, client, request, ctx) as Promise<Res>;
}

beforeAll(async () => {
  const repository = new MemoryAuthzRepository();
  await seed(repository, {
    assignments: [
      newAssignment({ subjectId: adminId, role: 'admin' }, T0),
      newAssignment({ subjectId: playerId, role: 'player' }, T0),
    ],
  });
  started = await startAuthzServer({ repository });
  started.tokens.set(ADMIN_TOKEN, { userId: adminId, sessionId: randomUUID() });
  started.tokens.set(PLAYER_TOKEN, { userId: playerId, sessionId: randomUUID() });
  client = createClient(authzv1.AuthzServiceClient, {
    address: started.address,
    serviceKey: SERVICE_KEYS.gateway,
  });
});

afterAll(async () => {
  client?.close();
  await started?.close();
});

describe('AuthzService over gRPC', () => {
  it('answers CheckPermission with the deciding role and grant', async () => {
    const response = await call(client.checkPermission, {
      subjectId: playerId,
      permission: 'session.end',
      resource: { type: 'session', id: 's1', ownerId: playerId },
    });
    expect(response).toEqual({
      allowed: true,
      reason: 'role player grants session.end:own (owner matches)',
      stepUpRequired: false,
      revision: 0,
    });
    const denied = await call(client.checkPermission, {
      subjectId: playerId,
      permission: 'user.disable',
      resource: undefined,
    });
    expect(denied.allowed).toBe(false);
    expect(denied.stepUpRequired).toBe(false);
  });

  it('applies an @aal2 grant only when the check carries AAL2, and says a step-up would help', async () => {
    const mine = { type: 'user', id: playerId, ownerId: playerId };
    const atAal1 = await call(client.checkPermission, {
      subjectId: playerId,
      permission: 'user.remove_mfa',
      resource: mine,
      assuranceLevel: authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL1,
    });
    expect(atAal1).toEqual({
      allowed: false,
      reason: 'user.remove_mfa:own@aal2 needs a session completed with a second factor (AAL2)',
      stepUpRequired: true,
      revision: 0,
    });
    const unspecified = await call(client.checkPermission, {
      subjectId: playerId,
      permission: 'user.remove_mfa',
      resource: mine,
    });
    expect(unspecified.stepUpRequired).toBe(true);
    const atAal2 = await call(client.checkPermission, {
      subjectId: playerId,
      permission: 'user.remove_mfa',
      resource: mine,
      assuranceLevel: authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2,
    });
    expect(atAal2).toEqual({
      allowed: true,
      reason: 'role player grants user.remove_mfa:own@aal2 at AAL2 (owner matches)',
      stepUpRequired: false,
      revision: 0,
    });
  });

  it('answers CheckPermissions in order', async () => {
    const response = await call(client.checkPermissions, {
      checks: [
        { subjectId: adminId, permission: 'user.disable', resource: undefined },
        { subjectId: playerId, permission: 'user.disable', resource: undefined },
      ],
    });
    expect(response.results.map((r) => r.allowed)).toEqual([true, false]);
  });

  it('maps bad input to INVALID_ARGUMENT with field violations', async () => {
    const failure = await call(client.checkPermissions, {
      checks: [{ subjectId: 'nobody', permission: 'x', resource: undefined }],
    }).catch((e: AppError) => e);
    expect(failure).toMatchObject({
      kind: 'INVALID_ARGUMENT',
      reason: 'INVALID_ARGUMENT',
      violations: [
        { field: 'checks[0].subject_id', description: expect.any(String) },
        { field: 'checks[0].permission', description: expect.any(String) },
      ],
    });
  });

  it('turns undecodable request bytes into INVALID_ARGUMENT, not INTERNAL', async () => {
    const Raw = makeGenericClientConstructor(
      {
        checkPermission: {
          ...authzv1.AuthzServiceService.checkPermission,
          requestSerialize: (bytes: Buffer) => bytes,
        },
      },
      'Raw',
    );
    const raw = new Raw(started.address, credentials.createInsecure()) as unknown as {
      checkPermission(req: Buffer, md: Metadata, cb: (e: ServiceError | null) => void): void;
      close(): void;
    };
    const metadata = new Metadata();
    metadata.set('x-warden-service-key', SERVICE_KEYS.gateway);
    const error = await new Promise<ServiceError | null>((resolve) =>
      raw.checkPermission(Buffer.from([0x0a, 0xff, 0xff]), metadata, resolve),
    );
    raw.close();
    expect(error?.code).toBe(3);
  });

  it('refuses a caller without a service key', async () => {
    const anonymous = createClient(authzv1.AuthzServiceClient, { address: started.address });
    const failure = await callUnary(anonymous.checkPermission, anonymous, {
      subjectId: playerId,
      permission: 'game.join',
      resource: undefined,
    }).catch((e: AppError) => e);
    anonymous.close();
    expect(failure).toMatchObject({ kind: 'UNAUTHENTICATED', reason: 'SERVICE_IDENTITY_REQUIRED' });
  });

  it('lets an admin manage roles and assignments end to end', async () => {
    const { role } = await call(
      client.createRole,
      {
        role: {
          name: 'moderator',
          description: 'mods',
          permissions: ['chat.mute'],
          inherits: ['player'],
          builtIn: false,
        },
        requestId: randomUUID(),
      },
      asAdmin,
    );
    expect(role).toMatchObject({ name: 'moderator', builtIn: false, createTime: expect.any(Date) });

    const subjectId = aUserId();
    const expireTime = new Date(Date.now() + 3_600_000);
    const { assignment } = await call(
      client.assignRole,
      { subjectId, role: 'moderator', expireTime, requestId: '' },
      asAdmin,
    );
    expect(assignment).toMatchObject({ subjectId, role: 'moderator', expireTime });

    const check = await call(client.checkPermission, {
      subjectId,
      permission: 'chat.mute',
      resource: undefined,
    });
    expect(check.reason).toBe('role moderator grants chat.mute');

    const access = await call(client.listSubjectPermissions, { subjectId }, asAdmin);
    expect(access.roles).toEqual(['guest', 'moderator', 'player']);

    const listed = await call(
      client.listRoleAssignments,
      { subjectId: '', role: 'moderator', pageSize: 10, pageToken: '' },
      asAdmin,
    );
    expect(listed.assignments.map((a) => a.subjectId)).toEqual([subjectId]);

    const { role: updated } = await call(
      client.updateRole,
      {
        role: {
          name: 'moderator',
          description: 'mods, renamed',
          permissions: [],
          inherits: [],
          builtIn: false,
        },
        updateMask: ['description'],
      },
      asAdmin,
    );
    expect(updated).toMatchObject({ description: 'mods, renamed', permissions: ['chat.mute'] });

    expect((await call(client.getRole, { name: 'moderator' }, asAdmin)).role?.name).toBe(
      'moderator',
    );
    const roles = await call(client.listRoles, { pageSize: 0, pageToken: '' }, asAdmin);
    expect(roles.roles.map((r) => r.name)).toEqual(['admin', 'guest', 'moderator', 'player']);

    await call(client.revokeRole, { subjectId, role: 'moderator' }, asAdmin);
    expect(
      (
        await call(client.checkPermission, {
          subjectId,
          permission: 'chat.mute',
          resource: undefined,
        })
      ).allowed,
    ).toBe(false);

    await call(client.deleteRole, { name: 'moderator' }, asAdmin);
    await expect(call(client.getRole, { name: 'moderator' }, asAdmin)).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
  });

  it('carries scopes and session bindings through the edge', async () => {
    await call(
      client.createRole,
      {
        role: {
          name: 'guild_mod',
          description: 'mods one guild',
          permissions: ['guild.ban'],
          inherits: [],
          builtIn: false,
        },
        requestId: randomUUID(),
      },
      asAdmin,
    );
    const subjectId = aUserId();
    const scope = { type: 'guild', id: '42' };
    const { assignment } = await call(
      client.assignRole,
      { subjectId, role: 'guild_mod', scope, requestId: '' },
      asAdmin,
    );
    expect(assignment).toMatchObject({ subjectId, role: 'guild_mod', scope, boundSessionId: '' });
    const onIt = { type: 'guild', id: '42', ownerId: '' };
    expect(
      (await call(client.checkPermission, { subjectId, permission: 'guild.ban', resource: onIt }))
        .reason,
    ).toBe('role guild_mod on guild:42 grants guild.ban');
    const access = await call(client.listSubjectPermissions, { subjectId }, asAdmin);
    expect(access).toMatchObject({
      roles: [],
      permissions: [],
      scoped: [{ scope, roles: ['guild_mod'], permissions: ['guild.ban'] }],
    });
    const listed = await call(
      client.listRoleAssignments,
      { subjectId: '', role: '', pageSize: 10, pageToken: '', scope },
      asAdmin,
    );
    expect(listed.assignments).toEqual([expect.objectContaining({ subjectId, scope })]);
    await call(client.revokeRole, { subjectId, role: 'guild_mod', scope }, asAdmin);
    expect(
      (await call(client.checkPermission, { subjectId, permission: 'guild.ban', resource: onIt }))
        .allowed,
    ).toBe(false);

    await expect(
      call(
        client.assignRole,
        { subjectId, role: 'guild_mod', scope: { type: '', id: '' }, requestId: '' },
        asAdmin,
      ),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [
        { field: 'scope.type', description: 'is required' },
        { field: 'scope.id', description: 'is required' },
      ],
    });
    // No session-service here: a binding cannot be checked, so nothing is assigned.
    await expect(
      call(
        client.assignRole,
        {
          subjectId,
          role: 'guild_mod',
          expireTime: new Date(Date.now() + 3_600_000),
          boundSessionId: randomUUID(),
          requestId: '',
        },
        asAdmin,
      ),
    ).rejects.toMatchObject({ kind: 'UNAVAILABLE', reason: 'SESSIONS_UNAVAILABLE' });
    expect(
      (
        await call(
          client.listRoleAssignments,
          { subjectId, role: '', pageSize: 10, pageToken: '' },
          asAdmin,
        )
      ).assignments,
    ).toEqual([]);
  });

  it('gives clear errors for a cycle, an unknown role and a built-in role', async () => {
    await expect(
      call(
        client.updateRole,
        {
          role: {
            name: 'guest',
            description: '',
            permissions: [],
            inherits: ['player'],
            builtIn: false,
          },
          updateMask: ['inherits'],
        },
        asAdmin,
      ),
    ).rejects.toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'ROLE_CYCLE' });
    await expect(
      call(client.assignRole, { subjectId: aUserId(), role: 'ghost', requestId: '' }, asAdmin),
    ).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'ROLE_NOT_FOUND',
    });
    await expect(call(client.deleteRole, { name: 'admin' }, asAdmin)).rejects.toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'BUILT_IN_ROLE',
    });
  });

  it('keeps a player to its own business', async () => {
    expect(
      (await call(client.listSubjectPermissions, { subjectId: playerId }, asPlayer)).permissions,
    ).toContain('game.join');
    await expect(
      call(client.listSubjectPermissions, { subjectId: adminId }, asPlayer),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED' });
    await expect(
      call(client.assignRole, { subjectId: playerId, role: 'admin', requestId: '' }, asPlayer),
    ).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
    });
    await expect(call(client.listRoles, { pageSize: 0, pageToken: '' })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'USER_TOKEN_REQUIRED',
    });
    await expect(
      call(
        client.listRoles,
        { pageSize: 0, pageToken: '' },
        { bearerToken: 'wst_unknown', requestId: randomUUID() },
      ),
    ).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
      reason: 'SESSION_NOT_FOUND',
    });
  });
});
