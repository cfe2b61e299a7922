import { Metadata, status } from '@grpc/grpc-js';
import type { AppError } from '@warden/errors';
import { callUnary, createClient, waitForServing, type ClientKitOptions } from '@warden/grpc';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import { createTestPki, waitFor, type TestPki } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, check, register, signIn } from '../support/flows.js';
import { call, fullRequest, GATEWAY_KEY, startStack, type Stack } from '../support/stack.js';

// Attack 6: with grpc.tls on, every call between services (servers and workers) must still work
// over mTLS, and only a certificate whose CN is in auth.allowed_services is a service identity.
let pki: TestPki;
let stack: Stack;

beforeAll(async () => {
  pki = createTestPki();
  stack = await startStack({ tls: pki });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  pki?.remove();
}, 60_000);

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to be refused');
}

type Address = keyof Stack['addresses'];

/** One client per service, all built from the same channel options. */
function clientsWith(options: Omit<ClientKitOptions, 'address'>) {
  return {
    user: createClient(userv1.UserServiceClient, { address: stack.addresses.user, ...options }),
    session: createClient(sessionv1.SessionServiceClient, {
      address: stack.addresses.session,
      ...options,
    }),
    authz: createClient(authzv1.AuthzServiceClient, { address: stack.addresses.authz, ...options }),
  };
}

/** A call every service answers to an identified caller (ValidateSession, ListRoles, GetUser). */
function probe(clients: ReturnType<typeof clientsWith>, service: Address): Promise<unknown> {
  const deadline = 10_000;
  if (service === 'user')
    return callUnary(
      clients.user.verifyCredentials,
      clients.user,
      fullRequest('verifyCredentials', {
        email: `nobody-${stack.prefix}@example.com`,
        password: 'x'.repeat(12),
      }),
      undefined,
      deadline,
    );
  if (service === 'session')
    return callUnary(
      clients.session.validateSession,
      clients.session,
      fullRequest('validateSession', { token: 'not-a-token' }),
      undefined,
      deadline,
    );
  return callUnary(
    clients.authz.checkPermission,
    clients.authz,
    fullRequest('checkPermission', {
      subjectId: '00000000-0000-7000-8000-000000000000',
      permission: 'game.join',
      resource: { type: 'game', id: 'g1', ownerId: '' },
    }),
    undefined,
    deadline,
  );
}

describe('mTLS between every process', () => {
  it('registers a user whose default role arrives through the authz worker', async () => {
    const user = await register(stack, `mtls-${stack.prefix}@example.com`);
    await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
      timeoutMs: 30_000,
      what: 'default role over mTLS',
    });
  });

  it('grants the bootstrap admin (authz worker and user-service over mTLS)', async () => {
    const admin = await bootstrapAdmin(stack);
    expect(admin.user.email).toBe(stack.adminEmail);
    expect(admin.token).not.toBe('');
  });

  it('signs in (session-service asks user-service VerifyCredentials over mTLS)', async () => {
    const email = `signin-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const { session, token } = await signIn(stack, email);
    expect(session.userId).toBe(user.id);
    expect(token.length).toBeGreaterThan(20);
  });

  it('serves bearer-token calls: user-service and authz-service ask session-service and authz over mTLS', async () => {
    const email = `bearer-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const { token } = await signIn(stack, email);
    // user-service: ValidateSession at session-service, then CheckPermission at authz-service.
    const own = await call<userv1.GetUserRequest, userv1.GetUserResponse>(
      stack.users,
      'getUser',
      { userId: user.id },
      token,
    );
    expect(own.user?.email).toBe(email);
    // authz-service resolves the same token at session-service.
    const permissions = await call<
      authzv1.ListSubjectPermissionsRequest,
      authzv1.ListSubjectPermissionsResponse
    >(stack.authz, 'listSubjectPermissions', { subjectId: user.id }, token);
    expect(permissions.permissions).toContain('game.join');
    // session-service checks the caller's permission at authz-service.
    const sessions = await call<
      sessionv1.ListActiveSessionsRequest,
      sessionv1.ListActiveSessionsResponse
    >(
      stack.sessions,
      'listActiveSessions',
      { userId: user.id, pageSize: 10, pageToken: '' },
      token,
    );
    expect(sessions.sessions.map((s) => s.userId)).toEqual([user.id]);
  });
});

describe('refusals', () => {
  it('refuses a certificate signed by the CA whose CN is not in auth.allowed_services', async () => {
    const intruder = clientsWith({ tls: { enabled: true, ...pki.issue('billing-service') } });
    for (const service of ['user', 'session', 'authz'] as const) {
      const refused = await failure(probe(intruder, service));
      expect(refused.kind, service).toBe('UNAUTHENTICATED');
      expect(refused.reason, service).toBe('SERVICE_IDENTITY_REQUIRED');
    }
  });

  it('accepts the same kind of certificate when its CN is listed (the gateway)', async () => {
    const gateway = clientsWith({ tls: { enabled: true, ...stack.gatewayCertificate! } });
    for (const service of ['user', 'session', 'authz'] as const)
      await expect(probe(gateway, service).catch((e: AppError) => e.reason)).resolves.not.toBe(
        'SERVICE_IDENTITY_REQUIRED',
      );
  });

  it('refuses a plaintext client, even one with a valid service key', async () => {
    const plaintext = clientsWith({ serviceKey: GATEWAY_KEY, maxAttempts: 2 });
    for (const service of ['user', 'session', 'authz'] as const)
      expect((await failure(probe(plaintext, service))).kind, service).toBe('UNAVAILABLE');
  });

  it('refuses TLS without a client certificate, and a certificate from another CA', async () => {
    const other = createTestPki('rogue-ca');
    try {
      const anonymous = clientsWith({ tls: { enabled: true, caFile: pki.caFile }, maxAttempts: 2 });
      const rogue = clientsWith({
        tls: { enabled: true, ...other.issue('gateway'), caFile: pki.caFile },
        maxAttempts: 2,
      });
      for (const service of ['user', 'session', 'authz'] as const) {
        expect((await failure(probe(anonymous, service))).kind, service).toBe('UNAVAILABLE');
        expect((await failure(probe(rogue, service))).kind, service).toBe('UNAVAILABLE');
      }
    } finally {
      other.remove();
    }
  });
});

describe('grpc.health_port', () => {
  it('answers grpc.health.v1 in plaintext for probes, and nothing else', async () => {
    for (const service of ['user', 'session', 'authz'] as const) {
      const address = stack.healthAddresses[service];
      await waitForServing(address, { timeoutMs: 5_000 });
      const client = createClient(userv1.UserServiceClient, {
        address,
        serviceKey: GATEWAY_KEY,
        maxAttempts: 2,
      });
      const code = await new Promise<number | undefined>((resolve) =>
        client.getUser(
          fullRequest('getUser', { userId: 'x' }),
          new Metadata(),
          { deadline: Date.now() + 5_000 },
          (error) => resolve(error?.code),
        ),
      );
      client.close();
      expect(code, service).toBe(status.UNIMPLEMENTED);
    }
  });
});
