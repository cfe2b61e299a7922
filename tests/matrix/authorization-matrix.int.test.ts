import { randomUUID } from 'node:crypto';
import { Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { AppError } from '@warden/errors';
import { createClient, fromServiceError } from '@warden/grpc';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { uniqueName, waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, register, signIn as signInAs } from '../support/flows.js';
import { call, fullRequest, startStack, type Stack } from '../support/stack.js';

/**
 * Every RPC of the three services x every kind of caller, generated from ONE table, over real gRPC
 * against real processes. "deny" means the call was stopped by identity or authorization
 * (UNAUTHENTICATED or PERMISSION_DENIED); "allow" means it got past them (it may still fail on its
 * own terms, e.g. NOT_FOUND). The test fails on any difference, and there must be no unexpected allow.
 */
const CALLERS = [
  'none',
  'service',
  'guest',
  'player-self',
  'player-other',
  'admin',
  'disabled',
  'ended',
] as const;
type Caller = (typeof CALLERS)[number];
type Outcome = 'allow' | 'deny';
type Service = 'users' | 'sessions' | 'authz';

interface Row {
  service: Service;
  rpc: string;
  /** Builds the request for this caller; `target` is the caller's own user for player-self, else another user. */
  request: (target: Fixture, caller: Caller) => Promise<unknown> | unknown;
  expect: Record<Caller, Outcome>;
  stream?: boolean;
  /** Tells apart rows of the same RPC. */
  variant?: string;
}

interface Fixture {
  userId: string;
  email: string;
  token: string;
  sessionId: string;
}

/** A bcrypt hash (of "pw", cost 4) in the modular crypt format ImportUsers accepts. */
const IMPORTED_BCRYPT = '$2b$04$XNgsM1pN42CbWfRPkLuO3OcbT82D3rGHL3qFTShZY7gAMqkxYJCNC';

const A = 'allow';
const D = 'deny';
/** Only a service identity is needed: any caller with a valid key and no bad token passes. */
const serviceOnly = {
  none: D,
  service: A,
  guest: A,
  'player-self': A,
  'player-other': A,
  admin: A,
  disabled: D,
  ended: D,
} as const;
/** `:own` grants of a player: allowed on self, denied on another; admins may do it to anyone. */
const ownOrAdmin = {
  none: D,
  service: D,
  guest: D,
  'player-self': A,
  'player-other': D,
  admin: A,
  disabled: D,
  ended: D,
} as const;
const adminOnly = {
  none: D,
  service: D,
  guest: D,
  'player-self': D,
  'player-other': D,
  admin: A,
  disabled: D,
  ended: D,
} as const;
/**
 * Open to a service identity; a user token carried along limits the call to the user's own data
 * unless it holds the unscoped permission (admins do).
 */
const serviceOrOwnOrAdmin = {
  none: D,
  service: A,
  guest: D,
  'player-self': A,
  'player-other': D,
  admin: A,
  disabled: D,
  ended: D,
} as const;
/** Everyone's data through a service-level RPC: the bare service, or a user holding the permission. */
const serviceOrAdmin = { ...serviceOrOwnOrAdmin, 'player-self': D } as const;
const nobodyHere = {
  none: D,
  service: D,
  guest: D,
  'player-self': D,
  'player-other': D,
  admin: D,
  disabled: D,
  ended: D,
} as const;

let stack: Stack;
let self: Fixture;
let other: Fixture;
const tokens = {} as Record<Caller, string | undefined>;

const TABLE: Row[] = [
  // warden.user.v1.UserService
  {
    service: 'users',
    rpc: 'registerUser',
    expect: serviceOnly,
    request: () => ({
      email: `${uniqueName('r')}@example.com`,
      password: PASSWORD,
      displayName: 'R',
      requestId: randomUUID(),
    }),
  },
  { service: 'users', rpc: 'getUser', expect: ownOrAdmin, request: (t) => ({ userId: t.userId }) },
  { service: 'users', rpc: 'listUsers', expect: adminOnly, request: () => ({ pageSize: 5 }) },
  {
    service: 'users',
    rpc: 'updateUser',
    expect: ownOrAdmin,
    request: (t) => ({ userId: t.userId, displayName: 'Renamed', updateMask: ['display_name'] }),
  },
  {
    service: 'users',
    rpc: 'changePassword',
    expect: ownOrAdmin,
    request: (t) => ({ userId: t.userId, currentPassword: PASSWORD, newPassword: PASSWORD }),
  },
  {
    service: 'users',
    rpc: 'disableUser',
    expect: adminOnly,
    request: async (t, c) => ({
      userId: c === 'admin' ? (await newUser()).userId : t.userId,
      reason: 'matrix',
    }),
  },
  {
    service: 'users',
    rpc: 'enableUser',
    expect: adminOnly,
    request: (t) => ({ userId: t.userId, reason: 'matrix' }),
  },
  {
    service: 'users',
    rpc: 'deleteUser',
    expect: adminOnly,
    request: async (t, c) => ({ userId: c === 'admin' ? (await newUser()).userId : t.userId }),
  },
  // Reserved for session-service: the gateway's key is refused whoever the user is.
  {
    service: 'users',
    rpc: 'verifyCredentials',
    expect: nobodyHere,
    request: (t) => ({ email: t.email, password: PASSWORD }),
  },
  // Account lifecycle (issue 13). Codes go to the notifier services only (auth.notifier_services:
  // the gateway here), whoever's token rides along; redeeming needs only a service identity, the
  // code being the proof (a wrong one is INVALID_CODE: past authorization).
  {
    service: 'users',
    rpc: 'requestEmailVerification',
    expect: serviceOnly,
    request: (t) => ({ userId: t.userId }),
  },
  {
    service: 'users',
    rpc: 'verifyEmail',
    expect: serviceOnly,
    request: (t) => ({ userId: t.userId, code: 'not-the-code' }),
  },
  {
    service: 'users',
    rpc: 'requestPasswordReset',
    expect: serviceOnly,
    request: (t) => ({ email: t.email }),
  },
  {
    service: 'users',
    rpc: 'resetPassword',
    expect: serviceOnly,
    request: (t) => ({ email: t.email, code: 'not-the-code', newPassword: 'matrix reset 2026' }),
  },
  {
    service: 'users',
    rpc: 'importUsers',
    expect: adminOnly,
    request: () => ({
      users: [
        {
          email: `${uniqueName('imp')}@example.com`,
          displayName: 'Imported',
          passwordHash: IMPORTED_BCRYPT,
          emailVerified: false,
          externalId: '',
          metadata: {},
        },
      ],
      requestId: randomUUID(),
    }),
  },
  // Step-up (issue 13). A player enrols and confirms their own TOTP (user.manage_mfa:own); its
  // removal is user.remove_mfa:own@aal2, so the players' password-only (AAL1) sessions here are
  // asked to step up (PERMISSION_DENIED / STEP_UP_REQUIRED): admins only at this level.
  {
    service: 'users',
    rpc: 'enrollTotp',
    expect: ownOrAdmin,
    request: (t) => ({ userId: t.userId }),
  },
  {
    service: 'users',
    rpc: 'confirmTotp',
    expect: ownOrAdmin,
    request: (t) => ({ userId: t.userId, code: '000000' }),
  },
  {
    service: 'users',
    rpc: 'removeTotp',
    expect: adminOnly,
    request: (t) => ({ userId: t.userId, code: '000000' }),
  },
  // Reserved for session-service (CompleteMfa), like VerifyCredentials.
  {
    service: 'users',
    rpc: 'verifySecondFactor',
    expect: nobodyHere,
    request: (t) => ({ userId: t.userId, totpCode: '000000' }),
  },
  // Metadata paths of UpdateUser need user.manage_metadata on top of user.update: admins only.
  {
    service: 'users',
    rpc: 'updateUser',
    variant: 'metadata',
    expect: adminOnly,
    request: (t) => ({
      userId: t.userId,
      metadata: { 'public.team': 'red' },
      updateMask: ['metadata'],
    }),
  },
  // Filtering on a private metadata key needs user.read_metadata on top of user.list.
  {
    service: 'users',
    rpc: 'listUsers',
    variant: 'private metadata filter',
    expect: adminOnly,
    request: () => ({ pageSize: 5, metadata: { 'crm.segment': 'x' } }),
  },
  // warden.session.v1.SessionService
  {
    service: 'sessions',
    rpc: 'startSession',
    expect: serviceOnly,
    request: (t) => ({
      email: t.email,
      password: PASSWORD,
      client: { ipAddress: '127.0.0.1', userAgent: 'matrix' },
      requestId: randomUUID(),
    }),
  },
  // The challenge id is the proof, as the password is for StartSession: a service identity is
  // enough (a malformed id is INVALID_ARGUMENT, past authorization).
  {
    service: 'sessions',
    rpc: 'completeMfa',
    expect: serviceOnly,
    request: () => ({ challengeId: 'not-a-challenge', totpCode: '000000', requestId: '' }),
  },
  {
    service: 'sessions',
    rpc: 'validateSession',
    expect: serviceOnly,
    request: async (t) => ({ token: (await signIn(t.email)).token }),
  },
  {
    service: 'sessions',
    rpc: 'getSession',
    expect: ownOrAdmin,
    request: (t) => ({ sessionId: t.sessionId }),
  },
  {
    service: 'sessions',
    rpc: 'listActiveSessions',
    expect: ownOrAdmin,
    request: (t) => ({ userId: t.userId, pageSize: 5 }),
  },
  {
    service: 'sessions',
    rpc: 'refreshSession',
    expect: serviceOnly,
    request: async (t) => ({ token: (await signIn(t.email)).token }),
  },
  {
    service: 'sessions',
    rpc: 'endSession',
    expect: ownOrAdmin,
    request: async (t) => ({ sessionId: (await signIn(t.email)).sessionId }),
  },
  {
    service: 'sessions',
    rpc: 'endUserSessions',
    expect: ownOrAdmin,
    request: (t) => ({ userId: t.userId, exceptSessionId: t.sessionId }),
  },
  // Named services only (watch.allowed_services = [gateway]); a user token carried by the gateway
  // watches only its own user's sessions, unless it holds session.list.
  {
    service: 'sessions',
    rpc: 'watchSessions',
    stream: true,
    expect: serviceOrOwnOrAdmin,
    request: (t) => ({ userId: t.userId }),
  },
  {
    service: 'sessions',
    rpc: 'watchSessions',
    variant: 'everyone',
    stream: true,
    expect: serviceOrAdmin,
    request: () => ({ userId: '' }),
  },
  // Public keys for any service identity; the revocation feed for named services
  // (revocations.allowed_services: the gateway, the matrix's service identity).
  { service: 'sessions', rpc: 'getJwks', expect: serviceOnly, request: () => ({}) },
  {
    service: 'sessions',
    rpc: 'watchRevocations',
    stream: true,
    expect: serviceOnly,
    request: () => ({ after: '' }),
  },
  // warden.authz.v1.AuthzService
  // Any subject for a bare service; a user token asks about itself, or anyone with permission.read.
  {
    service: 'authz',
    rpc: 'checkPermission',
    expect: serviceOrOwnOrAdmin,
    request: (t) => ({
      subjectId: t.userId,
      permission: 'game.join',
      resource: { type: 'game', id: 'g', ownerId: '' },
    }),
  },
  {
    service: 'authz',
    rpc: 'checkPermissions',
    expect: serviceOrOwnOrAdmin,
    request: (t) => ({
      checks: [
        {
          subjectId: t.userId,
          permission: 'game.join',
          resource: { type: 'game', id: 'g', ownerId: '' },
        },
      ],
    }),
  },
  {
    service: 'authz',
    rpc: 'listSubjectPermissions',
    expect: ownOrAdmin,
    request: (t) => ({ subjectId: t.userId }),
  },
  {
    service: 'authz',
    rpc: 'assignRole',
    expect: adminOnly,
    request: (t) => ({ subjectId: t.userId, role: 'player', requestId: randomUUID() }),
  },
  {
    service: 'authz',
    rpc: 'revokeRole',
    expect: adminOnly,
    request: async (t, c) => ({
      subjectId: c === 'admin' ? (await newUser()).userId : t.userId,
      role: 'player',
    }),
  },
  // Scoped grants: role.assign/role.revoke on the role, or on the scope itself; none of these
  // callers holds it on a guild, so only the admin (unscoped) passes.
  {
    service: 'authz',
    rpc: 'assignRole',
    variant: 'on a scope',
    expect: adminOnly,
    request: (t) => ({
      subjectId: t.userId,
      role: 'player',
      scope: { type: 'guild', id: randomUUID() },
      requestId: randomUUID(),
    }),
  },
  {
    service: 'authz',
    rpc: 'assignRole',
    variant: 'bound to a session',
    expect: adminOnly,
    request: (t) => ({
      subjectId: t.userId,
      // Not player: a bound assignment would replace the target's permanent one.
      role: 'guest',
      expireTime: new Date(Date.now() + 3_600_000),
      boundSessionId: t.sessionId,
      requestId: randomUUID(),
    }),
  },
  {
    service: 'authz',
    rpc: 'revokeRole',
    variant: 'on a scope',
    expect: adminOnly,
    request: (t) => ({ subjectId: t.userId, role: 'player', scope: { type: 'guild', id: '1' } }),
  },
  {
    service: 'authz',
    rpc: 'listRoleAssignments',
    expect: adminOnly,
    request: (t) => ({ subjectId: t.userId, pageSize: 5 }),
  },
  {
    service: 'authz',
    rpc: 'createRole',
    expect: adminOnly,
    request: () => ({
      role: {
        name: uniqueName('role'),
        description: 'matrix',
        permissions: ['game.join'],
        inherits: [],
      },
      requestId: randomUUID(),
    }),
  },
  {
    service: 'authz',
    rpc: 'updateRole',
    expect: adminOnly,
    request: async () => ({
      role: {
        name: await newRole(),
        description: 'updated',
        permissions: ['game.join'],
        inherits: [],
      },
      updateMask: ['description'],
    }),
  },
  {
    service: 'authz',
    rpc: 'deleteRole',
    expect: adminOnly,
    request: async () => ({ name: await newRole() }),
  },
  { service: 'authz', rpc: 'getRole', expect: adminOnly, request: () => ({ name: 'player' }) },
  { service: 'authz', rpc: 'listRoles', expect: adminOnly, request: () => ({ pageSize: 5 }) },
  // Who holds a permission is everyone's data: a bare service, or a user with permission.read.
  {
    service: 'authz',
    rpc: 'lookupSubjects',
    expect: serviceOrAdmin,
    request: () => ({ permission: 'game.join', pageSize: 5 }),
  },
  // A plan is about one subject, like CheckPermission: itself, or anyone with permission.read.
  {
    service: 'authz',
    rpc: 'planPermission',
    expect: serviceOrOwnOrAdmin,
    request: (t) => ({ subjectId: t.userId, permission: 'session.end', resourceType: 'session' }),
  },
  // The audit trails: audit.read on {type audit}, an admin's; never a bare service or a player,
  // not even filtered to their own entries.
  ...(['users', 'sessions', 'authz'] as const).map((service): Row => ({
    service,
    rpc: 'listAuditEvents',
    expect: adminOnly,
    request: (t) => ({ filter: { actorId: t.userId }, pageSize: 5 }),
  })),
];

async function newUser(email = `${uniqueName('u')}@example.com`): Promise<Fixture> {
  const user = await register(stack, email);
  return { userId: user.id, email, ...(await signIn(email)) };
}

async function signIn(email: string): Promise<{ token: string; sessionId: string }> {
  const { token, session } = await signInAs(stack, email);
  return { token, sessionId: session.id };
}

async function newRole(): Promise<string> {
  const name = uniqueName('role');
  await call(
    stack.authz,
    'createRole',
    { role: { name, description: 'matrix', permissions: ['game.join'], inherits: [] } },
    tokens.admin,
  );
  return name;
}

const hasPermission = async (subjectId: string, permission: string) =>
  (
    await call<authzv1.CheckPermissionRequest, authzv1.CheckPermissionResponse>(
      stack.authz,
      'checkPermission',
      {
        subjectId,
        permission,
        resource: { type: 'x', id: 'x', ownerId: '' },
      },
    )
  ).allowed;

const nameOf = (row: Row) =>
  `${row.service}.${row.rpc}${row.variant === undefined ? '' : ` (${row.variant})`}`;

const isDenial = (error: AppError) =>
  error.kind === 'UNAUTHENTICATED' || error.kind === 'PERMISSION_DENIED';

async function attempt(row: Row, caller: Caller): Promise<{ outcome: Outcome; detail: string }> {
  const target = caller === 'player-self' ? self : other;
  const clients =
    caller === 'none'
      ? anonymousClients()
      : { users: stack.users, sessions: stack.sessions, authz: stack.authz };
  const client = clients[row.service];
  const request = await row.request(target, caller);
  try {
    if (row.stream) {
      await openStream(
        client as sessionv1.SessionServiceClient,
        row.rpc as StreamRpc,
        fullRequest(row.rpc, request),
        tokens[caller],
      );
    } else await call(client, row.rpc, request, tokens[caller]);
    return { outcome: 'allow', detail: 'OK' };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { outcome: isDenial(error) ? 'deny' : 'allow', detail: `${error.kind}/${error.reason}` };
  }
}

type StreamRpc = 'watchSessions' | 'watchRevocations';

/** A stream that stays open 300 ms without an error got past authorization. */
function openStream(
  client: sessionv1.SessionServiceClient,
  rpc: StreamRpc,
  request: unknown,
  token?: string,
): Promise<void> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const stream: ClientReadableStream<unknown> =
    rpc === 'watchSessions'
      ? client.watchSessions(request as sessionv1.WatchSessionsRequest, metadata)
      : client.watchRevocations(request as sessionv1.WatchRevocationsRequest, metadata);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.cancel();
      resolve();
    }, 300);
    stream.on('data', () => undefined);
    stream.on('error', (error) => {
      clearTimeout(timer);
      const mapped = fromServiceError(error);
      if (mapped.kind === 'ABORTED') resolve();
      else reject(mapped);
    });
  });
}

let anonymous:
  | {
      users: userv1.UserServiceClient;
      sessions: sessionv1.SessionServiceClient;
      authz: authzv1.AuthzServiceClient;
    }
  | undefined;
function anonymousClients() {
  anonymous ??= {
    users: createClient(userv1.UserServiceClient, { address: stack.addresses.user }),
    sessions: createClient(sessionv1.SessionServiceClient, { address: stack.addresses.session }),
    authz: createClient(authzv1.AuthzServiceClient, { address: stack.addresses.authz }),
  };
  return anonymous;
}

beforeAll(async () => {
  stack = await startStack();
  const admin = await newUser(stack.adminEmail);
  await waitFor(() => hasPermission(admin.userId, 'role.assign'), {
    timeoutMs: 15_000,
    what: 'bootstrap admin role',
  });
  tokens.admin = (await signIn(stack.adminEmail)).token;

  self = await newUser();
  other = await newUser();
  await waitFor(
    async () =>
      (await hasPermission(self.userId, 'game.join')) &&
      (await hasPermission(other.userId, 'game.join')),
    {
      timeoutMs: 15_000,
      what: 'default player roles',
    },
  );
  tokens['player-self'] = self.token;
  tokens['player-other'] = (await newUser()).token;

  const guest = await newUser();
  await waitFor(() => hasPermission(guest.userId, 'game.join'), {
    timeoutMs: 15_000,
    what: 'guest default role',
  });
  await call(stack.authz, 'revokeRole', { subjectId: guest.userId, role: 'player' }, tokens.admin);
  await call(
    stack.authz,
    'assignRole',
    { subjectId: guest.userId, role: 'guest', requestId: randomUUID() },
    tokens.admin,
  );
  await waitFor(async () => !(await hasPermission(guest.userId, 'game.join')), {
    what: 'guest demotion',
  });
  tokens.guest = guest.token;

  const disabled = await newUser();
  await call(
    stack.users,
    'disableUser',
    { userId: disabled.userId, reason: 'matrix' },
    tokens.admin,
  );
  tokens.disabled = disabled.token;

  const ended = await newUser();
  // Logging out needs the player role's session.end:own, granted when authz hears the registration.
  await waitFor(() => hasPermission(ended.userId, 'game.join'), {
    timeoutMs: 15_000,
    what: 'ended user default role',
  });
  await call(stack.sessions, 'endSession', { sessionId: ended.sessionId }, ended.token);
  tokens.ended = ended.token;
  tokens.service = undefined;
  tokens.none = undefined;
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

describe('authorization matrix: every RPC x every caller', () => {
  it('covers every RPC of the three services', () => {
    const rpcs = (definition: object) => Object.keys(definition).sort();
    // One row per RPC, plus variants of some (a second request shape), each named.
    const variants = TABLE.filter((r) => r.variant !== undefined);
    expect(variants.every((v) => TABLE.some((r) => r.rpc === v.rpc && !r.variant))).toBe(true);
    expect(
      TABLE.filter((r) => r.service === 'users' && r.variant === undefined)
        .map((r) => r.rpc)
        .sort(),
    ).toEqual(rpcs(userv1.UserServiceService));
    expect(
      TABLE.filter((r) => r.service === 'sessions' && r.variant === undefined)
        .map((r) => r.rpc)
        .sort(),
    ).toEqual(rpcs(sessionv1.SessionServiceService));
    expect(
      TABLE.filter((r) => r.service === 'authz' && r.variant === undefined)
        .map((r) => r.rpc)
        .sort(),
    ).toEqual(rpcs(authzv1.AuthzServiceService));
  });

  it('allows and denies exactly as the table says, with zero unexpected allows', async () => {
    const mismatches: string[] = [];
    const lines: string[] = [];
    for (const row of TABLE) {
      const cells: string[] = [];
      for (const caller of CALLERS) {
        const { outcome, detail } = await attempt(row, caller);
        cells.push(`${caller}=${outcome === 'allow' ? 'A' : 'D'}`);
        if (outcome !== row.expect[caller]) {
          mismatches.push(
            `${nameOf(row)} as ${caller}: expected ${row.expect[caller]}, got ${outcome} (${detail})`,
          );
        }
      }
      lines.push(`${nameOf(row).padEnd(34)} ${cells.join(' ')}`);
    }
    console.error(
      `authorization matrix (${TABLE.length} rows x ${CALLERS.length} callers):\n${lines.join('\n')}`,
    );
    const unexpectedAllows = mismatches.filter((m) => m.includes('got allow'));
    expect(unexpectedAllows, 'unexpected allows').toEqual([]);
    expect(mismatches).toEqual([]);
  }, 300_000);
});
