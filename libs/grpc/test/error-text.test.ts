import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { AppError } from '@warden/errors';
import { createLogger } from '@warden/logger';
import { rpcDetails, rpcStatus, userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '../src/client.js';
import { GrpcServer } from '../src/server.js';
import { describeCause, ERROR_DOMAIN, fromServiceError } from '../src/status.js';

// What a caller reads of a failure never carries an address, errno or internal cause; the log does.
const KEY = 'test-key-gateway-0000000';
const ADDRESS_TEXT = /\d+\.\d+\.\d+\.\d+|ECONNREFUSED|:\d{4,5}\b/;
const definition = { getUser: userv1.UserServiceService.getUser };
const logLines: Array<Record<string, unknown>> = [];
const logger = createLogger({
  service: 'error-text-test',
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
});
const refused = () => new Error('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:50053');

/** Each user id makes the handler fail one way. */
const FAILURES: Record<string, () => AppError> = {
  'internal-wiring': () =>
    new AppError('INTERNAL', 'AUTHZ_CHECK_REJECTED', 'authz at 127.0.0.1:50053 said no', {
      metadata: { peer: '127.0.0.1:50053' },
      cause: refused(),
    }),
  'authz-down': () =>
    new AppError('UNAVAILABLE', 'AUTHZ_UNAVAILABLE', 'authorization service unavailable', {
      cause: refused(),
    }),
  'not-yours': () =>
    new AppError('PERMISSION_DENIED', 'PERMISSION_DENIED', 'missing permission user.read', {
      metadata: { permission: 'user.read' },
      cause: 'user.read:own needs owner_id == subject_id, but it is owned by someone else',
    }),
  'not-found': () => new AppError('NOT_FOUND', 'USER_NOT_FOUND', 'no such user'),
};

let server: GrpcServer;
let address: string;

beforeAll(async () => {
  server = new GrpcServer({
    serviceName: 'test',
    logger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 64 * 1024,
    serviceKeys: { gateway: KEY },
  });
  server.addService(definition, {
    getUser: async (request) => {
      throw FAILURES[request.userId]!();
    },
  });
  address = `127.0.0.1:${await server.listen()}`;
});

afterAll(() => server.shutdown(1000));

const client = () => createClient(userv1.UserServiceClient, { address, serviceKey: KEY });

function rawFailure(userId: string): Promise<ServiceError> {
  const c = client();
  const metadata = new Metadata();
  return new Promise((resolve, reject) =>
    c.getUser({ userId }, metadata, (error) =>
      error ? resolve(error) : reject(new Error('expected a failure')),
    ),
  );
}

function decodedStatus(error: ServiceError) {
  const raw = error.metadata.get('grpc-status-details-bin')[0] as Buffer;
  const decoded = rpcStatus.Status.decode(raw);
  const info = decoded.details.find((d) => d.typeUrl.endsWith('google.rpc.ErrorInfo'))!;
  return { message: decoded.message, info: rpcDetails.ErrorInfo.decode(info.value) };
}

/** A loopback port nobody listens on. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

describe('server kit: what a refusal says and what the log keeps', () => {
  it('sends an INTERNAL error as "internal error" with its reason, keeping message and metadata for the log', async () => {
    const error = await rawFailure('internal-wiring');
    expect(error.code).toBe(status.INTERNAL);
    expect(error.details).toBe('internal error');
    const { message, info } = decodedStatus(error);
    expect(message).toBe('internal error');
    expect(info).toEqual({ reason: 'AUTHZ_CHECK_REJECTED', domain: ERROR_DOMAIN, metadata: {} });
    expect(JSON.stringify(error.metadata.getMap())).not.toMatch(ADDRESS_TEXT);
    const line = logLines.find((l) => l.msg === 'rpc failed');
    expect(JSON.stringify(line)).toContain('authz at 127.0.0.1:50053 said no');
  });

  it('sends a dependency failure with its generic message and logs the cause at warn', async () => {
    const error = await rawFailure('authz-down');
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toBe('authorization service unavailable');
    expect(decodedStatus(error).info.reason).toBe('AUTHZ_UNAVAILABLE');
    expect(JSON.stringify(error.metadata.getMap())).not.toMatch(ADDRESS_TEXT);
    const line = logLines.find((l) => l.reason === 'AUTHZ_UNAVAILABLE')!;
    expect(line.level).toBe('warn');
    expect(line.cause).toBe('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:50053');
  });

  it("logs why a permission was refused, and sends only the permission's name", async () => {
    const error = await rawFailure('not-yours');
    expect(error.details).toBe('missing permission user.read');
    expect(decodedStatus(error).info.metadata).toEqual({ permission: 'user.read' });
    const line = logLines.find((l) => l.reason === 'PERMISSION_DENIED')!;
    expect(line.level).toBe('debug');
    expect(line.cause).toContain('owned by someone else');
  });

  it('answers undecodable bytes without the decoder’s own words', async () => {
    const Raw = makeGenericClientConstructor(
      {
        getUser: {
          ...definition.getUser,
          requestSerialize: (value: Buffer) => value,
          responseDeserialize: (value: Buffer) => value,
        },
      },
      'Raw',
    );
    const raw = new Raw(address, credentials.createInsecure()) as unknown as Client & {
      getUser(r: Buffer, m: Metadata, cb: (e: ServiceError | null) => void): void;
    };
    const metadata = new Metadata();
    metadata.set('x-warden-service-key', KEY);
    const error = await new Promise<ServiceError>((resolve) =>
      raw.getUser(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), metadata, (e) => resolve(e!)),
    );
    raw.close();
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toBe('request could not be decoded');
    const line = logLines.find((l) => l.reason === 'MALFORMED_REQUEST')!;
    expect(typeof line.cause).toBe('string');
    expect((line.cause as string).length).toBeGreaterThan(0);
  });
});

describe('client kit: a failure we did not produce reaches the caller generically', () => {
  it('keeps a warden server’s own message and reason', async () => {
    const c = client();
    const error = await callUnary(c.getUser, c, { userId: 'not-found' }).catch((e) => e);
    expect(error).toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'USER_NOT_FOUND',
      message: 'no such user',
    });
    c.close();
  });

  it('turns a refused connection into "<service> unavailable", the errno kept only as the cause', async () => {
    const closed = createClient(userv1.UserServiceClient, {
      address: `127.0.0.1:${await closedPort()}`,
      serviceKey: KEY,
      maxAttempts: 2,
    });
    const error = (await callUnary(closed.getUser, closed, { userId: 'x' }).catch(
      (e) => e,
    )) as AppError;
    closed.close();
    expect(error).toBeInstanceOf(AppError);
    expect(error.kind).toBe('UNAVAILABLE');
    expect(error.reason).toBe('UNAVAILABLE');
    expect(error.message).toBe('warden.user.v1.UserService unavailable');
    expect(describeCause(error.cause)).toMatch(/ECONNREFUSED/);
  });

  it('drops the message, reason and metadata of a status without a warden ErrorInfo', () => {
    const details = rpcStatus.Status.encode({
      code: status.UNAVAILABLE,
      message: 'upstream 10.0.0.7:5432 down',
      details: [
        {
          typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo',
          value: Buffer.from(
            rpcDetails.ErrorInfo.encode({
              reason: 'PG_DOWN',
              domain: 'proxy.example',
              metadata: { host: '10.0.0.7' },
            }).finish(),
          ),
        },
      ],
    }).finish();
    const metadata = new Metadata();
    metadata.set('grpc-status-details-bin', Buffer.from(details));
    const foreign = Object.assign(new Error('14 UNAVAILABLE: upstream 10.0.0.7:5432 down'), {
      code: status.UNAVAILABLE,
      details: 'upstream 10.0.0.7:5432 down',
      metadata,
    }) as ServiceError;
    const error = fromServiceError(foreign, 'warden.authz.v1.AuthzService');
    expect([error.kind, error.reason, error.message, error.metadata]).toEqual([
      'UNAVAILABLE',
      'UNAVAILABLE',
      'warden.authz.v1.AuthzService unavailable',
      {},
    ]);
    expect(error.cause).toBe(foreign);
  });

  it('words a deadline and a non-gRPC error generically too', () => {
    const deadline = Object.assign(new Error('4 DEADLINE_EXCEEDED: remote_addr=127.0.0.1:50053'), {
      code: status.DEADLINE_EXCEEDED,
      details: 'Deadline exceeded after 2.001s,remote_addr=127.0.0.1:50053',
      metadata: new Metadata(),
    }) as ServiceError;
    expect(fromServiceError(deadline, 'x').message).toBe('x did not answer in time');
    expect(fromServiceError(new Error('socket hang up 127.0.0.1:1')).message).toBe(
      'dependency unavailable',
    );
  });

  it('describes a cause chain in one line, bounded', () => {
    const inner = new Error('connect ECONNREFUSED 127.0.0.1:50053');
    const outer = new Error('authorization service unavailable', { cause: inner });
    expect(describeCause(outer)).toBe(
      'authorization service unavailable <- connect ECONNREFUSED 127.0.0.1:50053',
    );
    expect(describeCause('authz said no')).toBe('authz said no');
    expect(describeCause(undefined)).toBeUndefined();
    let deep: unknown = 'root';
    for (let i = 0; i < 10; i++) deep = new Error(`e${i}`, { cause: deep });
    expect(describeCause(deep)!.split(' <- ')).toHaveLength(5);
  });
});
