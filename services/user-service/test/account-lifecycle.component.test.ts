import { TablePermissionChecker, type UserPrincipal } from '@warden/bus';
import { unauthenticated } from '@warden/errors';
import { createClient, type GrpcServer } from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Argon2PasswordHasher } from '../src/adapters/crypto/argon2-password-hasher.js';
import { ImportedHashesVerifier } from '../src/adapters/crypto/imported-hashes.js';
import { createUserServer } from '../src/server.js';
import { foreignHashes } from './support/foreign-hashes.js';
import { callAs, failure } from './support/grpc-calls.js';
import { aUser } from './support/mothers.js';
import { aTestApp, type TestApp } from './support/test-app.js';

/** The account-lifecycle RPCs over real gRPC: proto mapping, error details, service identities. */
const KEYS = {
  gateway: 'dev-key-gateway-000000000',
  'session-service': 'dev-key-session-service-0',
  mailer: 'dev-key-mailer-00000000000',
};
const ADMIN = '0190c7a6-0000-7000-8000-00000000a0a0';
const PLAYER = '0190c7a6-0000-7000-8000-00000000b0b0';
const tokens = new Map<string, UserPrincipal>([
  ['admin-token', { userId: ADMIN, sessionId: 'admin-session' }],
  ['player-token', { userId: PLAYER, sessionId: 'player-session' }],
]);

let app: TestApp;
let server: GrpcServer;
let clients: Record<keyof typeof KEYS, userv1.UserServiceClient>;

beforeAll(async () => {
  app = aTestApp({
    authorizer: new TablePermissionChecker({
      [ADMIN]: ['*'],
      [PLAYER]: ['user.read:own', 'user.update:own'],
    }),
    notifiers: ['mailer'],
    passwordHasher: new ImportedHashesVerifier(
      await Argon2PasswordHasher.create({ memoryKib: 512, iterations: 1, parallelism: 1 }),
    ),
  });
  server = createUserServer(app, {
    logger: createLogger({ service: 'user-service-test', level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 4 * 1024 * 1024,
    serviceKeys: KEYS,
    resolveUser: async (token) => {
      const principal = tokens.get(token);
      if (!principal) throw unauthenticated('SESSION_NOT_FOUND', 'unknown session');
      return principal;
    },
  });
  const address = `127.0.0.1:${await server.listen()}`;
  clients = {
    gateway: createClient(userv1.UserServiceClient, { address, serviceKey: KEYS.gateway }),
    'session-service': createClient(userv1.UserServiceClient, {
      address,
      serviceKey: KEYS['session-service'],
    }),
    mailer: createClient(userv1.UserServiceClient, { address, serviceKey: KEYS.mailer }),
  };
});

afterAll(async () => {
  for (const client of Object.values(clients ?? {})) client.close();
  await server?.shutdown(1000);
});

const rpc = <Req, Res>(
  method: Parameters<typeof callAs<Req, Res>>[1],
  request: Req,
  options: { as?: keyof typeof KEYS; token?: string } = {},
) => callAs(clients[options.as ?? 'gateway'], method, request, options.token);

const PASSWORD = 'imported secret 1';

describe('account lifecycle over gRPC', () => {
  it('hands a reset code to the notifier only; an unknown email gets the same answer with an empty code', async () => {
    const user = aUser({ email: 'reset-me@example.com' });
    await app.given(user);
    const known = await rpc((c) => c.requestPasswordReset, { email: user.email }, { as: 'mailer' });
    const unknown = await rpc(
      (c) => c.requestPasswordReset,
      { email: 'who@example.com' },
      { as: 'mailer' },
    );
    expect(known.code).toHaveLength(43);
    expect(unknown.code).toBe('');
    expect(Object.keys(unknown).sort()).toEqual(Object.keys(known).sort());
    expect(unknown.expireTime).toEqual(known.expireTime);
    const refused = await failure(
      rpc((c) => c.requestPasswordReset, { email: user.email }, { as: 'gateway' }),
    );
    expect([refused.kind, refused.reason]).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED']);

    const wrong = await failure(
      rpc((c) => c.resetPassword, {
        email: user.email,
        code: 'nope',
        newPassword: 'brand new 2026',
      }),
    );
    expect([wrong.kind, wrong.reason, wrong.violations[0]?.field]).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_CODE',
      'code',
    ]);
    await rpc((c) => c.resetPassword, {
      email: user.email,
      code: known.code,
      newPassword: 'brand new 2026',
    });
    const verified = await rpc(
      (c) => c.verifyCredentials,
      { email: user.email, password: 'brand new 2026' },
      { as: 'session-service' },
    );
    expect(verified.userId).toBe(user.id);
  });

  it('verifies an email with the code and shows email_verified', async () => {
    const user = aUser();
    await app.given(user);
    const { code, expireTime } = await rpc(
      (c) => c.requestEmailVerification,
      { userId: user.id },
      { as: 'mailer' },
    );
    expect(expireTime).toBeInstanceOf(Date);
    const expired = await failure(rpc((c) => c.verifyEmail, { userId: user.id, code: 'x' }));
    expect(expired.reason).toBe('INVALID_CODE');
    const { user: after } = await rpc((c) => c.verifyEmail, { userId: user.id, code });
    expect(after?.emailVerified).toBe(true);
  });

  it('imports rows with per-row results, and an imported bcrypt user signs in and is rehashed', async () => {
    const bcrypt = await foreignHashes.bcrypt(PASSWORD);
    const { results } = await rpc(
      (c) => c.importUsers,
      {
        requestId: '',
        users: [
          {
            email: 'legacy@example.com',
            displayName: 'Legacy',
            passwordHash: bcrypt,
            emailVerified: true,
            externalId: 'legacy-1',
            metadata: { 'public.plan': 'gold', crm: 'vip' },
          },
          {
            email: 'broken@example.com',
            displayName: '',
            passwordHash: 'md5:abc',
            emailVerified: false,
            externalId: '',
            metadata: {},
          },
        ],
      },
      { token: 'admin-token' },
    );
    expect(results.map((r) => [r.index, r.errorReason, r.userId !== ''])).toEqual([
      [0, '', true],
      [1, 'INVALID_HASH', false],
    ]);
    const userId = results[0]!.userId;
    await rpc(
      (c) => c.verifyCredentials,
      { email: 'legacy@example.com', password: PASSWORD },
      { as: 'session-service' },
    );
    expect((await app.users.get(userId))?.passwordHash.startsWith('$argon2id$')).toBe(true);

    const forbidden = await failure(
      rpc((c) => c.importUsers, { requestId: '', users: [] }, { token: 'player-token' }),
    );
    expect(forbidden.kind).toBe('PERMISSION_DENIED');
  });

  it('returns metadata by the visibility rule, updates it with presence-aware external_id, and filters lists', async () => {
    const me = aUser({ id: PLAYER, metadata: { 'public.nickname': 'ace', tier: '3' } });
    await app.given(me);
    const mine = await rpc((c) => c.getUser, { userId: PLAYER }, { token: 'player-token' });
    expect(mine.user?.metadata).toEqual({ 'public.nickname': 'ace' });
    const full = await rpc((c) => c.getUser, { userId: PLAYER }, { token: 'admin-token' });
    expect(full.user?.metadata).toEqual({ 'public.nickname': 'ace', tier: '3' });

    // external_id given with an empty mask counts as a path; metadata left empty does not.
    const updated = await rpc(
      (c) => c.updateUser,
      { userId: PLAYER, displayName: '', externalId: 'crm-77', metadata: {}, updateMask: [] },
      { token: 'admin-token' },
    );
    expect(updated.user).toMatchObject({ externalId: 'crm-77', metadata: full.user!.metadata });
    const refused = await failure(
      rpc(
        (c) => c.updateUser,
        { userId: PLAYER, displayName: '', metadata: { x: '1' }, updateMask: ['metadata'] },
        { token: 'player-token' },
      ),
    );
    expect(refused.kind).toBe('PERMISSION_DENIED');

    const listed = await rpc(
      (c) => c.listUsers,
      {
        pageSize: 10,
        pageToken: '',
        emailPrefix: '',
        status: 0,
        externalId: 'crm-77',
        metadata: { tier: '3' },
      },
      { token: 'admin-token' },
    );
    expect(listed.users.map((u) => u.id)).toEqual([PLAYER]);
    const oversized = await failure(
      rpc(
        (c) => c.updateUser,
        {
          userId: PLAYER,
          displayName: '',
          metadata: { k: 'v'.repeat(2000) },
          updateMask: ['metadata'],
        },
        { token: 'admin-token' },
      ),
    );
    expect([oversized.kind, oversized.violations[0]?.field]).toEqual([
      'INVALID_ARGUMENT',
      'metadata["k"]',
    ]);
  });
});
