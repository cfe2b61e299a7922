import { randomUUID } from 'node:crypto';
import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { rpcDetails, rpcStatus } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, check, PASSWORD, register, signIn } from '../support/flows.js';
import { fullRequest, startStack, type Stack } from '../support/stack.js';

/**
 * Attack 8: a player probes ids. For every RPC that names a user, session, subject or role, the
 * refusal for someone else's resource and for one that does not exist must be byte-for-byte the
 * same status; and a dependency that is down must never show the caller its address or errno.
 */
let stack: Stack;
let player: { userId: string; token: string };
let victim: { userId: string; sessionId: string };
let adminToken: string;
/** A player whose token no service has validated yet, so no principal cache knows it. */
let third: { userId: string; token: string };

type Target = 'victim' | 'unknown';
interface Probe {
  service: 'users' | 'sessions' | 'authz';
  rpc: string;
  request: (target: Target) => unknown;
}

const userId = (t: Target) => (t === 'victim' ? victim.userId : UNKNOWN_USER);
const UNKNOWN_USER = randomUUID();
const UNKNOWN_SESSION = randomUUID();

const PROBES: Probe[] = [
  { service: 'users', rpc: 'getUser', request: (t) => ({ userId: userId(t) }) },
  {
    service: 'users',
    rpc: 'updateUser',
    request: (t) => ({ userId: userId(t), displayName: 'Mallory', updateMask: ['display_name'] }),
  },
  {
    service: 'users',
    rpc: 'changePassword',
    request: (t) => ({ userId: userId(t), currentPassword: PASSWORD, newPassword: `${PASSWORD}!` }),
  },
  { service: 'users', rpc: 'disableUser', request: (t) => ({ userId: userId(t), reason: 'x' }) },
  { service: 'users', rpc: 'enableUser', request: (t) => ({ userId: userId(t), reason: 'x' }) },
  { service: 'users', rpc: 'deleteUser', request: (t) => ({ userId: userId(t) }) },
  {
    service: 'sessions',
    rpc: 'getSession',
    request: (t) => ({ sessionId: t === 'victim' ? victim.sessionId : UNKNOWN_SESSION }),
  },
  {
    service: 'sessions',
    rpc: 'endSession',
    request: (t) => ({ sessionId: t === 'victim' ? victim.sessionId : UNKNOWN_SESSION }),
  },
  {
    service: 'sessions',
    rpc: 'listActiveSessions',
    request: (t) => ({ userId: userId(t), pageSize: 5 }),
  },
  {
    service: 'sessions',
    rpc: 'endUserSessions',
    request: (t) => ({ userId: userId(t), exceptSessionId: '' }),
  },
  { service: 'authz', rpc: 'listSubjectPermissions', request: (t) => ({ subjectId: userId(t) }) },
  {
    service: 'authz',
    rpc: 'listRoleAssignments',
    request: (t) => ({ subjectId: userId(t), pageSize: 5 }),
  },
  {
    service: 'authz',
    rpc: 'assignRole',
    request: (t) => ({ subjectId: userId(t), role: 'admin', requestId: randomUUID() }),
  },
  {
    service: 'authz',
    rpc: 'revokeRole',
    request: (t) => ({ subjectId: userId(t), role: 'player' }),
  },
  { service: 'authz', rpc: 'getRole', request: (t) => ({ name: roleName(t) }) },
  {
    service: 'authz',
    rpc: 'updateRole',
    request: (t) => ({
      role: { name: roleName(t), description: 'x', permissions: [], inherits: [] },
      updateMask: ['description'],
    }),
  },
  { service: 'authz', rpc: 'deleteRole', request: (t) => ({ name: roleName(t) }) },
];
const roleName = (t: Target) => (t === 'victim' ? 'admin' : 'no-such-role');

/** Everything a caller can read from a refusal: code, message, trailers and decoded details. */
interface Refusal {
  code: string;
  message: string;
  trailers: Record<string, string>;
  status: { code: number; message: string; details: unknown[] };
}

function describeRefusal(error: ServiceError): Refusal {
  const trailers: Record<string, string> = {};
  for (const [key, value] of Object.entries(error.metadata.getMap())) {
    // Set by HTTP/2 and the client's retry policy on every call, not by what was asked.
    if (key === 'date' || key === 'grpc-previous-rpc-attempts') continue;
    trailers[key] = Buffer.isBuffer(value) ? value.toString('base64') : value;
  }
  const raw = error.metadata.get('grpc-status-details-bin')[0];
  const decoded = Buffer.isBuffer(raw) ? rpcStatus.Status.decode(raw) : undefined;
  return {
    code: status[error.code] ?? String(error.code),
    message: error.details,
    trailers,
    status: {
      code: decoded?.code ?? -1,
      message: decoded?.message ?? '',
      details: (decoded?.details ?? []).map((any) =>
        any.typeUrl.endsWith('google.rpc.ErrorInfo')
          ? { errorInfo: rpcDetails.ErrorInfo.decode(any.value) }
          : { [any.typeUrl]: Buffer.from(any.value).toString('base64') },
      ),
    },
  };
}

/** Calls `rpc` with the gateway's key and `token`; resolves to the refusal, fails if it succeeds. */
function refusal(probe: Pick<Probe, 'service' | 'rpc'>, request: unknown, token: string) {
  const client = stack[probe.service] as unknown as Client &
    Record<string, (...args: unknown[]) => unknown>;
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return new Promise<Refusal>((resolve, reject) =>
    client[probe.rpc]!.call(
      client,
      fullRequest(probe.rpc, request),
      metadata,
      { deadline: Date.now() + 20_000 },
      (error: ServiceError | null, response: unknown) =>
        error
          ? resolve(describeRefusal(error))
          : reject(new Error(`${probe.rpc} succeeded: ${JSON.stringify(response)}`)),
    ),
  );
}

/** What must never reach a caller: addresses, ports, errno names, socket wording. */
const TRANSPORT_TEXT = /\d+\.\d+\.\d+\.\d+|:\d{2,5}\b|ECONN|ENOTFOUND|EAI_|errno|socket|connect\b/i;

const processNamed = (name: string) => {
  const found = stack.processes.find((p) => p.name === name);
  if (!found) throw new Error(`no process ${name}`);
  return found;
};

beforeAll(async () => {
  stack = await startStack();
  adminToken = (await bootstrapAdmin(stack)).token;
  const newPlayer = async () => {
    const email = `${randomUUID()}@example.com`;
    const user = await register(stack, email);
    await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
      timeoutMs: 15_000,
      what: 'default player role',
    });
    const { token, session } = await signIn(stack, email);
    return { userId: user.id, email, token, sessionId: session.id };
  };
  player = await newPlayer();
  victim = await newPlayer();
  third = await newPlayer();
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

describe('a player probing ids learns nothing from the refusal', () => {
  for (const probe of PROBES) {
    it(`${probe.service}.${probe.rpc}: another user's resource and an unknown one are refused alike`, async () => {
      const theirs = await refusal(probe, probe.request('victim'), player.token);
      const unknown = await refusal(probe, probe.request('unknown'), player.token);
      // Permission is checked before existence (AIP-211): both are PERMISSION_DENIED.
      expect(theirs.code).toBe('PERMISSION_DENIED');
      expect(unknown).toEqual(theirs);
      expect(theirs.status.code).toBe(status.PERMISSION_DENIED);
      expect(JSON.stringify(theirs)).not.toContain(victim.userId);
      expect(theirs.message).not.toMatch(/owner|someone else|role /i);
    });
  }

  it('still lets the player read what is theirs (the refusals above are not a blanket deny)', async () => {
    const own = await new Promise<unknown>((resolve, reject) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${player.token}`);
      stack.users.getUser(
        fullRequest('getUser', { userId: player.userId }),
        metadata,
        (error, response) => (error ? reject(error) : resolve(response.user?.id)),
      );
    });
    expect(own).toBe(player.userId);
  });

  it('gives an admin a real NOT_FOUND for ids that do not exist', async () => {
    const user = await refusal(
      { service: 'users', rpc: 'getUser' },
      { userId: UNKNOWN_USER },
      adminToken,
    );
    const session = await refusal(
      { service: 'sessions', rpc: 'getSession' },
      { sessionId: UNKNOWN_SESSION },
      adminToken,
    );
    const role = await refusal(
      { service: 'authz', rpc: 'getRole' },
      { name: 'no-such-role' },
      adminToken,
    );
    expect([user.code, session.code, role.code]).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
  });
});

describe('a dependency that is down is UNAVAILABLE with a generic message; the cause is only logged', () => {
  // These run last and in order: they stop authz-service, then session-service.
  const expectGeneric = (refused: Refusal, reason: string) => {
    expect(refused.code).toBe('UNAVAILABLE');
    expect(refused.status.details).toEqual([
      { errorInfo: { reason, domain: 'warden.dev', metadata: {} } },
    ]);
    expect(refused.message).toBe(refused.status.message);
    const { 'grpc-status-details-bin': _encoded, ...plainTrailers } = refused.trailers;
    const readable = [
      refused.message,
      refused.status.message,
      JSON.stringify(refused.status.details),
      ...Object.values(plainTrailers),
    ];
    for (const text of readable) expect(text).not.toMatch(TRANSPORT_TEXT);
  };

  it('authz-service stopped: user- and session-service answer AUTHZ_UNAVAILABLE, and log the cause', async () => {
    await processNamed('authz-service/main.ts').stop();
    // Decisions not asked before, so no authz-client cache can answer them.
    const viaUsers = await refusal(
      { service: 'users', rpc: 'updateUser' },
      { userId: player.userId, displayName: 'Renamed', updateMask: ['display_name'] },
      player.token,
    );
    const viaSessions = await refusal(
      { service: 'sessions', rpc: 'listActiveSessions' },
      { userId: player.userId, pageSize: 5 },
      player.token,
    );
    expectGeneric(viaUsers, 'AUTHZ_UNAVAILABLE');
    expectGeneric(viaSessions, 'AUTHZ_UNAVAILABLE');
    expect(viaUsers.message).toBe('authorization service unavailable');
    expect(viaSessions).toEqual(viaUsers);
    const authzPort = stack.addresses.authz.split(':')[1]!;
    expect(processNamed('user-service/main.ts').output()).toContain(`ECONNREFUSED`);
    expect(processNamed('user-service/main.ts').output()).toContain(authzPort);
    expect(processNamed('session-service/main.ts').output()).toContain(authzPort);
  });

  it('session-service stopped: a token reaching user-service is SESSION_SERVICE_UNAVAILABLE, and the cause is logged', async () => {
    await processNamed('session-service/main.ts').stop();
    const refused = await refusal(
      { service: 'users', rpc: 'getUser' },
      { userId: third.userId },
      third.token,
    );
    expectGeneric(refused, 'SESSION_SERVICE_UNAVAILABLE');
    expect(refused.message).toBe('session service unavailable');
    const sessionPort = stack.addresses.session.split(':')[1]!;
    expect(processNamed('user-service/main.ts').output()).toContain(sessionPort);
  });
});
