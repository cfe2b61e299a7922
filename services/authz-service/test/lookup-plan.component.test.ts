import { randomUUID } from 'node:crypto';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { callUnary, createClient } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAuthzRepository } from '../src/adapters/memory/memory-authz-repository.js';
import { newAssignment } from '../src/domain/index.js';
import { aRole, aUserId, T0 } from './support/mothers.js';
import { seed } from './support/seed.js';
import { SERVICE_KEYS, startAuthzServer } from './support/server.js';

// LookupSubjects and PlanPermission over gRPC: the request and response mapping, the page tokens,
// the errors with their details, and the user-token rule of each.

let started: Awaited<ReturnType<typeof startAuthzServer>>;
let client: authzv1.AuthzServiceClient;
const adminId = aUserId();
const playerId = aUserId();
const moderatorId = aUserId();
const asAdmin = { bearerToken: 'wst_admin', requestId: randomUUID() };
const asPlayer = { bearerToken: 'wst_player', requestId: randomUUID() };
const { AAL2 } = { AAL2: authzv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2 };

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

const lookup = (request: Partial<authzv1.LookupSubjectsRequest>, ctx?: typeof asAdmin) =>
  call(
    client.lookupSubjects,
    authzv1.LookupSubjectsRequest.fromPartial({ ...request }),
    ctx,
  ) as Promise<authzv1.LookupSubjectsResponse>;
const planFor = (request: Partial<authzv1.PlanPermissionRequest>, ctx?: typeof asAdmin) =>
  call(
    client.planPermission,
    authzv1.PlanPermissionRequest.fromPartial({ ...request }),
    ctx,
  ) as Promise<authzv1.PlanPermissionResponse>;

beforeAll(async () => {
  const repository = new MemoryAuthzRepository();
  await seed(repository, {
    roles: [aRole({ name: 'moderator', permissions: ['guild.moderate', 'guild.delete@aal2'] })],
    assignments: [
      newAssignment({ subjectId: adminId, role: 'admin' }, T0),
      newAssignment({ subjectId: playerId, role: 'player' }, T0),
      newAssignment(
        { subjectId: moderatorId, role: 'moderator', scope: { type: 'guild', id: '42' } },
        T0,
      ),
    ],
  });
  started = await startAuthzServer({ repository });
  started.tokens.set(asAdmin.bearerToken, { userId: adminId, sessionId: randomUUID() });
  started.tokens.set(asPlayer.bearerToken, { userId: playerId, sessionId: randomUUID() });
  client = createClient(authzv1.AuthzServiceClient, {
    address: started.address,
    serviceKey: SERVICE_KEYS.gateway,
  });
});

afterAll(async () => {
  client?.close();
  await started?.close();
});

describe('LookupSubjects over gRPC', () => {
  it('answers the holders, with scopes, :own and the assurance level resolved', async () => {
    const guild = { type: 'guild', id: '42', ownerId: '' };
    expect(await lookup({ permission: 'guild.moderate', resource: guild })).toEqual({
      subjectIds: [adminId, moderatorId].sort(),
      nextPageToken: '',
      revision: 0,
    });
    expect((await lookup({ permission: 'guild.moderate' })).subjectIds).toEqual([adminId]);
    expect(
      (await lookup({ permission: 'guild.delete', resource: guild, assuranceLevel: AAL2 }))
        .subjectIds,
    ).toEqual([adminId, moderatorId].sort());
    const mine = { type: 'session', id: 's', ownerId: playerId };
    expect((await lookup({ permission: 'session.end', resource: mine })).subjectIds).toEqual(
      [adminId, playerId].sort(),
    );
  });

  it('pages with tokens that only the same request accepts', async () => {
    const first = await lookup({ permission: 'game.join', pageSize: 1 });
    expect(first.subjectIds).toEqual([[adminId, playerId].sort()[0]]);
    const second = await lookup({
      permission: 'game.join',
      pageSize: 1,
      pageToken: first.nextPageToken,
    });
    expect(second.subjectIds).toEqual([[adminId, playerId].sort()[1]]);
    await expect(
      lookup({ permission: 'session.end', pageSize: 1, pageToken: first.nextPageToken }),
    ).rejects.toMatchObject({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_PAGE_TOKEN' });
  });

  it('answers a malformed permission with INVALID_ARGUMENT and its field', async () => {
    await expect(lookup({ permission: 'Session.End' })).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      reason: 'INVALID_ARGUMENT',
      violations: [{ field: 'permission', description: expect.stringContaining('<resource>') }],
    });
  });

  it('refuses a user token without permission.read', async () => {
    await expect(lookup({ permission: 'game.join' }, asPlayer)).rejects.toMatchObject({
      kind: 'PERMISSION_DENIED',
      reason: 'PERMISSION_DENIED',
    });
    expect((await lookup({ permission: 'game.join' }, asAdmin)).subjectIds).toContain(playerId);
  });
});

describe('min_revision over gRPC', () => {
  it('passes min_revision on: one above anything written is REVISION_NOT_REACHED', async () => {
    const unreached = { kind: 'FAILED_PRECONDITION', reason: 'REVISION_NOT_REACHED' };
    await expect(lookup({ permission: 'game.join', minRevision: 99 })).rejects.toMatchObject(
      unreached,
    );
    await expect(
      planFor({ subjectId: playerId, permission: 'game.join', minRevision: 99 }),
    ).rejects.toMatchObject(unreached);
  });
});

describe('PlanPermission over gRPC', () => {
  it('answers each plan kind with its conditions', async () => {
    expect(await planFor({ subjectId: adminId, permission: 'guild.moderate' })).toEqual({
      kind: authzv1.PlanKind.PLAN_KIND_ALWAYS_ALLOWED,
      ownerOnly: false,
      scopedResourceIds: [],
      stepUpRequired: false,
      revision: 0,
    });
    expect(await planFor({ subjectId: playerId, permission: 'session.end' })).toEqual({
      kind: authzv1.PlanKind.PLAN_KIND_CONDITIONAL,
      ownerOnly: true,
      scopedResourceIds: [],
      stepUpRequired: false,
      revision: 0,
    });
    expect(
      await planFor({
        subjectId: moderatorId,
        permission: 'guild.moderate',
        resourceType: 'guild',
      }),
    ).toMatchObject({ kind: authzv1.PlanKind.PLAN_KIND_CONDITIONAL, scopedResourceIds: ['42'] });
    expect(await planFor({ subjectId: moderatorId, permission: 'guild.delete' })).toMatchObject({
      kind: authzv1.PlanKind.PLAN_KIND_ALWAYS_DENIED,
      stepUpRequired: true,
    });
    expect(
      await planFor({ subjectId: moderatorId, permission: 'guild.delete', assuranceLevel: AAL2 }),
    ).toMatchObject({ kind: authzv1.PlanKind.PLAN_KIND_CONDITIONAL, scopedResourceIds: ['42'] });
  });

  it('answers another resource type with INVALID_ARGUMENT on resource_type', async () => {
    await expect(
      planFor({ subjectId: playerId, permission: 'session.end', resourceType: 'user' }),
    ).rejects.toMatchObject({
      kind: 'INVALID_ARGUMENT',
      violations: [{ field: 'resource_type', description: expect.stringContaining('session') }],
    });
  });

  it('lets a user token plan for itself but not for others without permission.read', async () => {
    expect(
      await planFor({ subjectId: playerId, permission: 'session.end' }, asPlayer),
    ).toMatchObject({ ownerOnly: true });
    await expect(
      planFor({ subjectId: adminId, permission: 'session.end' }, asPlayer),
    ).rejects.toMatchObject({ kind: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED' });
  });
});
