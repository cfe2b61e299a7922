import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { MemoryIdempotencyStore, TablePermissionChecker, type UserPrincipal } from '@warden/bus';
import { unauthenticated } from '@warden/errors';
import {
  callUnary,
  createClient,
  fromServiceError,
  SERVICE_KEY_HEADER,
  type GrpcServer,
} from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserApp } from '../src/app.js';
import { Argon2PasswordHasher } from '../src/adapters/crypto/argon2-password-hasher.js';
import { MemoryLoginFailureStore } from '../src/adapters/memory/memory-login-failure-store.js';
import { MemoryTotpFactorRepository } from '../src/adapters/memory/memory-totp-factor-repository.js';
import { MemoryOneTimeCodeStore } from '../src/adapters/memory/memory-one-time-code-store.js';
import { MemoryUserRepository } from '../src/adapters/memory/memory-user-repository.js';
import { createUserServer } from '../src/server.js';
import { FakeBreachedPasswords } from './support/fakes.js';
import { callAs, failure } from './support/grpc-calls.js';

const KEYS = {
  gateway: 'dev-key-gateway-000000000',
  'session-service': 'dev-key-session-service-0',
};
const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
const PASSWORD = 'correct horse battery';
const ADMIN_ID = '0190c7a6-0000-7000-8000-00000000a0a0';

const tokens = new Map<string, UserPrincipal>([
  ['admin-token', { userId: ADMIN_ID, sessionId: 'admin-session' }],
]);
const authorizer = new TablePermissionChecker({ [ADMIN_ID]: ['*'] });
const users = new MemoryUserRepository(new MemoryLoginFailureStore());
let server: GrpcServer;
let address: string;
let gateway: userv1.UserServiceClient;
let sessionService: userv1.UserServiceClient;

beforeAll(async () => {
  const app = createUserApp({
    users,
    directory: users,
    loginFailures: new MemoryLoginFailureStore(),
    idempotencyStore: new MemoryIdempotencyStore(),
    hasher: await Argon2PasswordHasher.create({ memoryKib: 512, iterations: 1, parallelism: 1 }),
    breaches: new FakeBreachedPasswords(['password123']),
    authorizer,
    lockout: { maxFailures: 3, windowMs: 60_000 },
    codeStore: new MemoryOneTimeCodeStore(users),
    notifierServices: ['gateway'],
    totpFactors: new MemoryTotpFactorRepository(users),
  });
  server = createUserServer(app, {
    logger: createLogger({ service: 'user-service-test', level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    serviceKeys: KEYS,
    resolveUser: async (token) => {
      const principal = tokens.get(token);
      if (!principal) throw unauthenticated('SESSION_NOT_FOUND', 'unknown session');
      return principal;
    },
  });
  address = `127.0.0.1:${await server.listen()}`;
  gateway = createClient(userv1.UserServiceClient, { address, serviceKey: KEYS.gateway });
  sessionService = createClient(userv1.UserServiceClient, {
    address,
    serviceKey: KEYS['session-service'],
  });
});

afterAll(async () => {
  gateway?.close();
  sessionService?.close();
  await server?.shutdown(1000);
});

/** One RPC as the gateway (or another client), on behalf of the user behind `token` when given. */
const rpc = <Req, Res>(
  method: Parameters<typeof callAs<Req, Res>>[1],
  request: Req,
  options: { token?: string; as?: userv1.UserServiceClient } = {},
) => callAs(options.as ?? gateway, method, request, options.token);

const register = (
  email: string,
  password = PASSWORD,
  extra: Partial<userv1.RegisterUserRequest> = {},
) =>
  rpc((c) => c.registerUser, {
    email,
    password,
    displayName: 'Test User',
    requestId: '',
    ...extra,
  });

/** A registered user with a session token of their own, allowed what players are. */
async function aSignedInUser(email: string) {
  const { user } = await register(email);
  const token = `token-${user!.id}`;
  tokens.set(token, {
    userId: user!.id,
    sessionId: `session-${user!.id}`,
    authenticatedAt: new Date(),
  });
  authorizer.grant(user!.id, 'user.read:own', 'user.update:own', 'user.change_password:own');
  return { user: user!, token };
}

describe('user-service over gRPC', () => {
  describe('RegisterUser', () => {
    it('registers an active user and never returns a hash', async () => {
      const { user } = await register('  Grace@Example.com ');
      expect(user).toMatchObject({
        email: 'grace@example.com',
        displayName: 'Test User',
        status: userv1.UserStatus.USER_STATUS_ACTIVE,
      });
      expect(user?.createTime).toBeInstanceOf(Date);
      expect(JSON.stringify(user)).not.toContain('argon2');
      expect(users.eventsOfType('registered').some((e) => e.userId === user?.id)).toBe(true);
    });

    it('answers ALREADY_EXISTS EMAIL_TAKEN for a taken email in another case or with spaces', async () => {
      await register('taken@example.com');
      const error = await failure(register('  TAKEN@example.COM  '));
      expect([error.kind, error.reason]).toEqual(['ALREADY_EXISTS', 'EMAIL_TAKEN']);
    });

    it('answers INVALID_ARGUMENT with a field violation on password for a short password', async () => {
      const error = await failure(register('short@example.com', 'short'));
      expect([error.kind, error.reason]).toEqual(['INVALID_ARGUMENT', 'WEAK_PASSWORD']);
      expect(error.violations).toEqual([
        { field: 'password', description: 'must be at least 8 characters' },
      ]);
    });

    it('answers INVALID_ARGUMENT PASSWORD_BREACHED for a known breached password', async () => {
      const error = await failure(register('breached@example.com', 'password123'));
      expect([error.kind, error.reason, error.violations[0]?.field]).toEqual([
        'INVALID_ARGUMENT',
        'PASSWORD_BREACHED',
        'password',
      ]);
    });

    it('answers INVALID_ARGUMENT for empty fields and for a 1 MB email', async () => {
      const empty = await failure(
        rpc((c) => c.registerUser, { email: '', password: '', displayName: '', requestId: '' }),
      );
      expect(empty.kind).toBe('INVALID_ARGUMENT');
      expect(empty.violations.map((v) => v.field)).toEqual(['email', 'password']);
      const huge = await failure(register(`${'a'.repeat(1024 * 1024)}@example.com`));
      expect(huge.kind).toBe('INVALID_ARGUMENT');
      expect(huge.violations[0]).toEqual({
        field: 'email',
        description: 'must be at most 254 characters',
      });
    });

    it('replays the first response for a repeated request_id and refuses the key for another request', async () => {
      const first = await register('idem@example.com', PASSWORD, { requestId: 'component-req-1' });
      const again = await register('idem@example.com', PASSWORD, { requestId: 'component-req-1' });
      expect(again).toEqual(first);
      const reused = await failure(
        register('idem@example.com', PASSWORD, {
          requestId: 'component-req-1',
          displayName: 'Another Name',
        }),
      );
      expect([reused.kind, reused.reason]).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
      const guess = await failure(
        register('idem@example.com', 'a wrong guess', { requestId: 'component-req-1' }),
      );
      expect([guess.kind, guess.reason]).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
      // The request_id belongs to the email it registered: another email's use is its own.
      const other = await register('other@example.com', PASSWORD, {
        requestId: 'component-req-1',
      });
      expect(other.user!.email).toBe('other@example.com');
      expect(other.user!.id).not.toBe(first.user!.id);
    });
  });

  describe('GetUser', () => {
    it('lets a user read themselves but not others', async () => {
      const me = await aSignedInUser('me@example.com');
      const other = await aSignedInUser('other-user@example.com');
      expect(
        (await rpc((c) => c.getUser, { userId: me.user.id }, { token: me.token })).user?.email,
      ).toBe('me@example.com');
      const denied = await failure(
        rpc((c) => c.getUser, { userId: other.user.id }, { token: me.token }),
      );
      expect([denied.kind, denied.reason]).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED']);
    });

    it('answers NOT_FOUND USER_NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
      const missing = await failure(
        rpc(
          (c) => c.getUser,
          { userId: '0190c7a6-0000-7000-8000-000000000bad' },
          { token: 'admin-token' },
        ),
      );
      expect([missing.kind, missing.reason]).toEqual(['NOT_FOUND', 'USER_NOT_FOUND']);
      for (const userId of ['', 'not-a-uuid', "' OR 1=1 --"]) {
        const bad = await failure(rpc((c) => c.getUser, { userId }, { token: 'admin-token' }));
        expect([bad.kind, bad.violations[0]?.field]).toEqual(['INVALID_ARGUMENT', 'user_id']);
      }
    });

    it('answers UNAUTHENTICATED for an unknown bearer token, and asks a service without a grant for one', async () => {
      const { user } = await register('needs-token@example.com');
      const unknown = await failure(
        rpc((c) => c.getUser, { userId: user!.id }, { token: 'no-such-token' }),
      );
      expect([unknown.kind, unknown.reason]).toEqual(['UNAUTHENTICATED', 'SESSION_NOT_FOUND']);
      const anonymous = await failure(rpc((c) => c.getUser, { userId: user!.id }));
      expect([anonymous.kind, anonymous.reason]).toEqual([
        'UNAUTHENTICATED',
        'USER_TOKEN_REQUIRED',
      ]);
    });
  });

  describe('ListUsers', () => {
    it('pages with opaque tokens and filters by prefix and status', async () => {
      for (const n of [1, 2, 3]) await register(`lister${n}@example.com`);
      const first = await rpc(
        (c) => c.listUsers,
        {
          pageSize: 2,
          pageToken: '',
          emailPrefix: 'LISTER',
          status: 0,
          externalId: '',
          metadata: {},
        },
        { token: 'admin-token' },
      );
      const second = await rpc(
        (c) => c.listUsers,
        {
          pageSize: 2,
          pageToken: first.nextPageToken,
          emailPrefix: 'lister',
          status: 0,
          externalId: '',
          metadata: {},
        },
        { token: 'admin-token' },
      );
      expect([...first.users, ...second.users].map((u) => u.email)).toEqual([
        'lister1@example.com',
        'lister2@example.com',
        'lister3@example.com',
      ]);
      expect(second.nextPageToken).toBe('');
    });

    it('answers INVALID_ARGUMENT INVALID_PAGE_TOKEN for a forged token and INVALID_ARGUMENT for an unknown status', async () => {
      const forged = await failure(
        rpc(
          (c) => c.listUsers,
          {
            pageSize: 0,
            pageToken: 'forged',
            emailPrefix: '',
            status: 0,
            externalId: '',
            metadata: {},
          },
          { token: 'admin-token' },
        ),
      );
      expect([forged.kind, forged.reason]).toEqual(['INVALID_ARGUMENT', 'INVALID_PAGE_TOKEN']);
      const status = await failure(
        rpc(
          (c) => c.listUsers,
          { pageSize: 0, pageToken: '', emailPrefix: '', status: 42, externalId: '', metadata: {} },
          { token: 'admin-token' },
        ),
      );
      expect([status.kind, status.violations[0]?.field]).toEqual(['INVALID_ARGUMENT', 'status']);
    });
  });

  describe('UpdateUser, ChangePassword, DisableUser, EnableUser, DeleteUser', () => {
    it('updates the display name named by the mask and refuses unknown paths', async () => {
      const me = await aSignedInUser('update@example.com');
      const { user } = await rpc(
        (c) => c.updateUser,
        { userId: me.user.id, displayName: 'Renamed', updateMask: ['display_name'], metadata: {} },
        { token: me.token },
      );
      expect(user?.displayName).toBe('Renamed');
      const bad = await failure(
        rpc(
          (c) => c.updateUser,
          { userId: me.user.id, displayName: 'x', updateMask: ['email'], metadata: {} },
          { token: me.token },
        ),
      );
      expect([bad.kind, bad.violations[0]?.field]).toEqual(['INVALID_ARGUMENT', 'update_mask']);
    });

    it("changes the password after checking the current one, keeping the caller's session", async () => {
      const me = await aSignedInUser('change@example.com');
      const wrong = await failure(
        rpc(
          (c) => c.changePassword,
          { userId: me.user.id, currentPassword: 'not it at all', newPassword: 'new password 1' },
          { token: me.token },
        ),
      );
      expect([wrong.kind, wrong.reason]).toEqual(['UNAUTHENTICATED', 'INVALID_CREDENTIALS']);
      await rpc(
        (c) => c.changePassword,
        { userId: me.user.id, currentPassword: PASSWORD, newPassword: 'new password 1' },
        { token: me.token },
      );
      expect(
        users.eventsOfType('password_changed').find((e) => e.userId === me.user.id)
          ?.exceptSessionId,
      ).toBe(`session-${me.user.id}`);
      const verified = await rpc(
        (c) => c.verifyCredentials,
        { email: 'change@example.com', password: 'new password 1' },
        { as: sessionService },
      );
      expect(verified.userId).toBe(me.user.id);
    });

    it('disables and enables idempotently, then deletes for good', async () => {
      const { user } = await register('lifecycle@example.com');
      const id = user!.id;
      const disable = () =>
        rpc((c) => c.disableUser, { userId: id, reason: 'test' }, { token: 'admin-token' });
      expect((await disable()).user?.status).toBe(userv1.UserStatus.USER_STATUS_DISABLED);
      expect((await disable()).user?.status).toBe(userv1.UserStatus.USER_STATUS_DISABLED);
      expect(users.eventsOfType('disabled').filter((e) => e.userId === id)).toHaveLength(1);
      expect(
        (await rpc((c) => c.enableUser, { userId: id, reason: '' }, { token: 'admin-token' })).user
          ?.status,
      ).toBe(userv1.UserStatus.USER_STATUS_ACTIVE);

      await rpc((c) => c.deleteUser, { userId: id }, { token: 'admin-token' });
      const gone = await failure(rpc((c) => c.getUser, { userId: id }, { token: 'admin-token' }));
      expect([gone.kind, gone.reason]).toEqual(['NOT_FOUND', 'USER_NOT_FOUND']);
      const again = await failure(
        rpc((c) => c.deleteUser, { userId: id }, { token: 'admin-token' }),
      );
      expect(again.kind).toBe('NOT_FOUND');
    });
  });

  describe('VerifyCredentials', () => {
    it('verifies for session-service, with the status of a disabled account', async () => {
      const { user } = await register('verify@example.com');
      await rpc((c) => c.disableUser, { userId: user!.id, reason: '' }, { token: 'admin-token' });
      expect(
        await rpc(
          (c) => c.verifyCredentials,
          { email: ' VERIFY@example.com', password: PASSWORD },
          { as: sessionService },
        ),
      ).toEqual({
        userId: user!.id,
        status: userv1.UserStatus.USER_STATUS_DISABLED,
        mfaEnabled: false,
      });
    });

    it('is refused to other services', async () => {
      const error = await failure(
        rpc((c) => c.verifyCredentials, { email: 'verify@example.com', password: PASSWORD }),
      );
      expect([error.kind, error.reason]).toEqual(['PERMISSION_DENIED', 'PERMISSION_DENIED']);
    });

    it('locks after repeated failures with RESOURCE_EXHAUSTED ACCOUNT_LOCKED and the time left', async () => {
      const attempt = () =>
        rpc(
          (c) => c.verifyCredentials,
          { email: 'ghost@example.com', password: 'wrong password' },
          { as: sessionService },
        );
      for (let i = 0; i < 3; i++)
        expect((await failure(attempt())).reason).toBe('INVALID_CREDENTIALS');
      const locked = await failure(attempt());
      expect([locked.kind, locked.reason]).toEqual(['RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED']);
      expect(Number(locked.metadata.retry_after_seconds)).toBeGreaterThan(0);
    });
  });

  describe('the edge', () => {
    it('answers UNAUTHENTICATED without a service key or with a wrong one', async () => {
      for (const serviceKey of [undefined, 'not-a-real-key-0000000']) {
        const client = createClient(userv1.UserServiceClient, {
          address,
          ...(serviceKey ? { serviceKey } : {}),
        });
        const error = await failure(
          callUnary(client.registerUser, client, {
            email: 'k@example.com',
            password: PASSWORD,
            displayName: '',
            requestId: '',
          }),
        );
        expect([error.kind, error.reason]).toEqual([
          'UNAUTHENTICATED',
          'SERVICE_IDENTITY_REQUIRED',
        ]);
        client.close();
      }
    });

    it('answers INVALID_ARGUMENT, never INTERNAL, for bytes that are not a request', async () => {
      const raw = rawClient();
      for (const bytes of [[0xff, 0xff, 0xff, 0xff], [0x0a, 0xff], [0x0a, 0x05, 0x61], [0x07]]) {
        const error = await rawCall(raw, Buffer.from(bytes));
        expect(error?.code).toBe(status.INVALID_ARGUMENT);
        expect(fromServiceError(error!).reason).toBe('MALFORMED_REQUEST');
      }
      raw.close();
    });

    it('answers RESOURCE_EXHAUSTED for a message over max_message_bytes and keeps serving', async () => {
      const raw = rawClient();
      const error = await rawCall(raw, Buffer.alloc(MAX_MESSAGE_BYTES + 1024, 0x20));
      expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
      raw.close();
      expect((await register('still-alive@example.com')).user?.email).toBe(
        'still-alive@example.com',
      );
    });
  });
});

const RawClient = makeGenericClientConstructor(
  {
    registerUser: {
      path: '/warden.user.v1.UserService/RegisterUser',
      requestStream: false,
      responseStream: false,
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  'RawUserService',
);

const rawClient = (): Client => new RawClient(address, credentials.createInsecure());

function rawCall(client: Client, bytes: Buffer): Promise<ServiceError | null> {
  const metadata = new Metadata();
  metadata.set(SERVICE_KEY_HEADER, KEYS.gateway);
  return new Promise((resolve) => {
    (client as unknown as Record<string, (...args: unknown[]) => void>).registerUser!(
      bytes,
      metadata,
      { deadline: Date.now() + 5000 },
      (error: ServiceError | null) => resolve(error),
    );
  });
}
