import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import { callUnary, outgoingMetadata, type OutgoingContext } from '@warden/grpc';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, failure, register, signIn } from '../support/flows.js';
import { call, fullRequest, startStack, type Stack } from '../support/stack.js';

// Read-your-writes (issue 15): a RevokeRole's revision, passed on as min_revision (directly) or
// x-warden-min-revision (through user-service and session-service), is never answered "allowed",
// however warm every cache in the way is. Real processes, Postgres and NATS.
let stack: Stack;
let admin: { user: userv1.User; token: string };
let auditor: { user: userv1.User; token: string };

const AUDITOR_ROLE = 'auditor';

beforeAll(async () => {
  stack = await startStack();
  admin = await bootstrapAdmin(stack);
  await call(
    stack.authz,
    'createRole',
    {
      role: {
        name: AUDITOR_ROLE,
        description: 'Reads users and their sessions.',
        permissions: ['user.list', 'session.list'],
        inherits: [],
      },
    },
    admin.token,
  );
  const email = `auditor-${stack.prefix}@example.com`;
  const user = await register(stack, email);
  auditor = { user, token: (await signIn(stack, email)).token };
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

/** A call as the gateway makes it for the auditor's token, with `x-warden-min-revision` when given. */
function asAuditor<Req, Res>(
  client: object,
  method: string,
  request: Partial<Req>,
  minRevision?: number,
) {
  const fn = (client as Record<string, unknown>)[method] as Parameters<
    typeof callUnary<Req, Res>
  >[0];
  const ctx: OutgoingContext = {
    bearerToken: auditor.token,
    requestId: randomUUID(),
    ...(minRevision ? { minRevision } : {}),
  };
  return callUnary(fn, client as never, fullRequest<Req>(method, request), ctx, 20_000);
}

const listUsers = (minRevision?: number) =>
  asAuditor<userv1.ListUsersRequest, userv1.ListUsersResponse>(
    stack.users,
    'listUsers',
    { pageSize: 5 },
    minRevision,
  );

/** Another user's sessions: only an unscoped session.list allows it. */
const listAdminSessions = (minRevision?: number) =>
  asAuditor<sessionv1.ListActiveSessionsRequest, sessionv1.ListActiveSessionsResponse>(
    stack.sessions,
    'listActiveSessions',
    { userId: admin.user.id, pageSize: 5 },
    minRevision,
  );

const checkUserList = (minRevision?: number) =>
  call<Partial<authzv1.CheckPermissionRequest>, authzv1.CheckPermissionResponse>(
    stack.authz,
    'checkPermission',
    {
      subjectId: auditor.user.id,
      permission: 'user.list',
      resource: { type: 'user', id: '', ownerId: '' },
      ...(minRevision ? { minRevision } : {}),
    },
  );

/**
 * ListUsers as the auditor, which the grant at `granted` allows; a refusal is reported with what
 * authz answers directly at that moment (at the grant's revision, and at its latest), which tells
 * a cache's stale answer from authz's own.
 */
async function expectListed(minRevision: number | undefined, granted: number): Promise<void> {
  let users: userv1.User[];
  try {
    ({ users } = await listUsers(minRevision));
  } catch (error) {
    const [atGrant, latest] = [await checkUserList(granted), await checkUserList()];
    throw new Error(
      `ListUsers (min_revision ${minRevision ?? 'none'}) after the grant at revision ${granted} was refused (${(error as Error).message}); authz directly: ${JSON.stringify({ atGrant, latest })}`,
      { cause: error },
    );
  }
  expect(users.length).toBeGreaterThan(0);
}

/**
 * ListUsers as the auditor at the revocation's revision: its refusal. An answer "allowed" is
 * reported with a second call's answer and authz's own at that revision, to tell a stale decision
 * held by user-service from authz's.
 */
async function refusedAt(revision: number): Promise<AppError> {
  const error = await failure(listUsers(revision)).catch(() => undefined);
  if (error) return error;
  const again = await failure(listUsers(revision)).then(
    (e) => `${e.kind}/${e.reason}`,
    () => 'allowed',
  );
  throw new Error(
    `ListUsers at the revocation's revision ${revision} was allowed; a second call: ${again}; authz directly: ${JSON.stringify(await checkUserList(revision))}`,
  );
}

describe('read-your-writes across every cache', () => {
  it('a RevokeRole revision passed on is never answered allowed, with every cache warm', async () => {
    for (let round = 0; round < 3; round++) {
      const assigned = await call<Partial<authzv1.AssignRoleRequest>, authzv1.AssignRoleResponse>(
        stack.authz,
        'assignRole',
        { subjectId: auditor.user.id, role: AUDITOR_ROLE },
        admin.token,
      );
      expect(assigned.revision).toBeGreaterThan(0);
      // The grant, read back at its revision, then again from warm caches: authz's subject
      // cache, user-service's and session-service's decision caches.
      expect(await checkUserList(assigned.revision)).toMatchObject({ allowed: true });
      for (const minRevision of [assigned.revision, undefined, undefined]) {
        await expectListed(minRevision, assigned.revision);
        await listAdminSessions(minRevision);
        expect((await checkUserList()).allowed).toBe(true);
      }

      const revoked = await call<Partial<authzv1.RevokeRoleRequest>, authzv1.RevokeRoleResponse>(
        stack.authz,
        'revokeRole',
        { subjectId: auditor.user.id, role: AUDITOR_ROLE },
        admin.token,
      );
      expect(revoked.revision).toBeGreaterThan(assigned.revision);
      // At once, before any event can be relied on.
      const direct = await checkUserList(revoked.revision);
      expect(direct.allowed).toBe(false);
      expect(direct.revision).toBeGreaterThanOrEqual(revoked.revision);
      expect(await refusedAt(revoked.revision)).toMatchObject({
        kind: 'PERMISSION_DENIED',
        reason: 'PERMISSION_DENIED',
      });
      expect(await failure(listAdminSessions(revoked.revision))).toMatchObject({
        kind: 'PERMISSION_DENIED',
        reason: 'PERMISSION_DENIED',
      });
    }
  });

  it('a revision never written is FAILED_PRECONDITION / REVISION_NOT_REACHED everywhere', async () => {
    const { revision } = await checkUserList();
    const unwritten = revision + 1_000_000;
    expect(await failure(checkUserList(unwritten))).toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'REVISION_NOT_REACHED',
    });
    expect(await failure(listUsers(unwritten))).toMatchObject({
      kind: 'FAILED_PRECONDITION',
      reason: 'REVISION_NOT_REACHED',
    });
  });

  it('refuses an x-warden-min-revision that is not a positive integer with INVALID_ARGUMENT', async () => {
    const metadataCall = (value: string) =>
      new Promise((resolve, reject) => {
        const metadata = callMetadata(value);
        stack.users.listUsers(
          fullRequest<userv1.ListUsersRequest>('listUsers', { pageSize: 1 }),
          metadata,
          (error, response) => (error ? reject(error) : resolve(response)),
        );
      });
    expect(await failure(metadataCall('-1'))).toMatchObject({ code: 3 /* INVALID_ARGUMENT */ });
  });
});

function callMetadata(minRevision: string) {
  const metadata = outgoingMetadata({ bearerToken: auditor.token, requestId: randomUUID() });
  metadata.set('x-warden-min-revision', minRevision);
  return metadata;
}
