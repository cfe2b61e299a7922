import type { CallContext } from '@warden/bus';
import { AppError } from '@warden/errors';
import { GrpcServer, type Handlers } from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { userv1 } from '@warden/proto';
import { freePort } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcCredentialsVerifier } from '../src/adapters/clients/grpc-credentials-verifier.js';

// What StartSession's caller may learn from user-service's VerifyCredentials, over real gRPC.
const KEY = 'test-key-session-service-000';
const ctx: CallContext = { service: { name: 'gateway' }, requestId: 'r-1' };
const logger = createLogger({ service: 'verifier-test', level: 'silent' });

/** Each email makes the stand-in user-service answer one way. */
const ANSWERS: Record<string, () => userv1.VerifyCredentialsResponse> = {
  'ok@example.com': () => ({
    userId: '0190a000-0000-7000-8000-000000000001',
    status: userv1.UserStatus.USER_STATUS_ACTIVE,
    mfaEnabled: false,
  }),
  'mfa@example.com': () => ({
    userId: '0190a000-0000-7000-8000-000000000002',
    status: userv1.UserStatus.USER_STATUS_ACTIVE,
    mfaEnabled: true,
  }),
  'wrong@example.com': () => {
    throw new AppError('UNAUTHENTICATED', 'INVALID_CREDENTIALS', 'email or password is incorrect');
  },
  'busy@example.com': () => {
    throw new AppError('RESOURCE_EXHAUSTED', 'PASSWORD_CHECKS_BUSY', 'retry shortly', {
      retryAfterMs: 1_000,
    });
  },
  'broken@example.com': () => {
    throw new AppError('INTERNAL', 'DB_DOWN', 'pg at 10.0.0.5:5432 refused');
  },
};

let server: GrpcServer;
let address: string;

beforeAll(async () => {
  server = new GrpcServer({
    serviceName: 'fake-user-service',
    logger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 1 << 20,
    serviceKeys: { 'session-service': KEY },
  });
  const unused = async (): Promise<never> => {
    throw new AppError('FAILED_PRECONDITION', 'NOT_IN_FAKE', 'not part of this fake');
  };
  const handlers = {
    ...Object.fromEntries(Object.keys(userv1.UserServiceService).map((name) => [name, unused])),
    verifyCredentials: async (request: userv1.VerifyCredentialsRequest) =>
      ANSWERS[request.email]!(),
  } as unknown as Handlers<typeof userv1.UserServiceService>;
  server.addService(userv1.UserServiceService, handlers);
  address = `127.0.0.1:${await server.listen()}`;
});

afterAll(() => server.shutdown(1_000));

const failure = (verifier: GrpcCredentialsVerifier, email: string) =>
  verifier.verify(email, 'pw', ctx).then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as AppError,
  );

describe('GrpcCredentialsVerifier', () => {
  it('returns the user behind good credentials', async () => {
    const verifier = new GrpcCredentialsVerifier({ address, serviceKey: KEY });
    await expect(verifier.verify('ok@example.com', 'pw', ctx)).resolves.toEqual({
      userId: '0190a000-0000-7000-8000-000000000001',
      status: 'ACTIVE',
      mfaEnabled: false,
    });
    verifier.close();
  });

  it('says when the user has a second factor on (StartSession then answers a challenge)', async () => {
    const verifier = new GrpcCredentialsVerifier({ address, serviceKey: KEY });
    await expect(verifier.verify('mfa@example.com', 'pw', ctx)).resolves.toMatchObject({
      mfaEnabled: true,
    });
    verifier.close();
  });

  it('passes INVALID_CREDENTIALS through as user-service worded it', async () => {
    const verifier = new GrpcCredentialsVerifier({ address, serviceKey: KEY });
    const error = await failure(verifier, 'wrong@example.com');
    verifier.close();
    expect([error.kind, error.reason, error.message]).toEqual([
      'UNAUTHENTICATED',
      'INVALID_CREDENTIALS',
      'email or password is incorrect',
    ]);
  });

  it('passes PASSWORD_CHECKS_BUSY through with its retry delay, never as INTERNAL', async () => {
    const verifier = new GrpcCredentialsVerifier({ address, serviceKey: KEY });
    const error = await failure(verifier, 'busy@example.com');
    verifier.close();
    expect([error.kind, error.reason, error.retryAfterMs]).toEqual([
      'RESOURCE_EXHAUSTED',
      'PASSWORD_CHECKS_BUSY',
      1_000,
    ]);
  });

  it('turns an unreachable user-service into a generic USER_SERVICE_UNAVAILABLE', async () => {
    const verifier = new GrpcCredentialsVerifier({
      address: `127.0.0.1:${await freePort()}`,
      serviceKey: KEY,
      deadlineMs: 1_000,
    });
    const error = await failure(verifier, 'ok@example.com');
    verifier.close();
    expect([error.kind, error.reason, error.message]).toEqual([
      'UNAVAILABLE',
      'USER_SERVICE_UNAVAILABLE',
      'user service unavailable',
    ]);
    expect((error.cause as AppError).kind).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED)$/);
  });

  it('reports a failure inside user-service as USER_SERVICE_UNAVAILABLE, without its message', async () => {
    const verifier = new GrpcCredentialsVerifier({ address, serviceKey: KEY });
    const error = await failure(verifier, 'broken@example.com');
    verifier.close();
    expect([error.kind, error.reason, error.message]).toEqual([
      'UNAVAILABLE',
      'USER_SERVICE_UNAVAILABLE',
      'user service unavailable',
    ]);
  });

  it("reports a refused service key as INTERNAL, never as the caller's credentials", async () => {
    const misconfigured = new GrpcCredentialsVerifier({ address, serviceKey: 'wrong-key' });
    const refused = await failure(misconfigured, 'ok@example.com');
    misconfigured.close();
    expect(refused.kind).toBe('INTERNAL');
    expect(refused.message).toContain('SERVICE_IDENTITY_REQUIRED');
  });
});
