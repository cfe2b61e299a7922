import {
  credentials,
  loadPackageDefinition,
  type ChannelCredentials,
  type ClientDuplexStream,
  makeGenericClientConstructor,
  Metadata,
  status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { AppError, invalidArgument } from '@warden/errors';
import { createLogger } from '@warden/logger';
// The recording tracer lives in @warden/testing, which itself depends on this package.
import { recordingTracer } from '../../testing/src/recording-tracer.js';
import { descriptorSetPath, userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, callUnary, outgoingMetadata } from '../src/client.js';
import { MIN_REVISION_METADATA, withMinRevision } from '../src/revision.js';
import { GrpcServer } from '../src/server.js';
import { fromServiceError } from '../src/status.js';
import { waitForServing } from '../src/health-probe.js';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadSync } from '@grpc/proto-loader';

const KEY = 'test-key-gateway-0000000';
const definition = { getUser: userv1.UserServiceService.getUser };
const silent = createLogger({ service: 'test', level: 'silent' });
/** What every server here is built with: loopback, an ephemeral port, the gateway's key. */
const SERVER_OPTIONS = {
  serviceName: 'test',
  logger: silent,
  host: '127.0.0.1',
  port: 0,
  maxMessageBytes: 64 * 1024,
  serviceKeys: { gateway: KEY },
  descriptorSetPath,
};
const seen: Array<{ user?: string; service: string; minRevision?: number }> = [];

let server: GrpcServer;
let address: string;

beforeAll(async () => {
  server = new GrpcServer({
    ...SERVER_OPTIONS,
    isUnavailable: (error) => (error as { code?: string }).code === 'ECONNREFUSED',
    resolveUser: async (token) => {
      if (token !== 'wst_good')
        throw new AppError('UNAUTHENTICATED', 'SESSION_NOT_FOUND', 'unknown session');
      return { userId: 'u1', sessionId: 's1' };
    },
  });
  server.addService(definition, {
    getUser: async (request, call) => {
      seen.push({
        user: call.ctx.user?.userId,
        service: call.ctx.service.name,
        minRevision: call.ctx.minRevision,
      });
      if (request.userId === 'boom') throw new Error('SELECT password_hash FROM users -- exploded');
      if (request.userId === 'db-down')
        throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432'), {
          code: 'ECONNREFUSED',
        });
      if (request.userId === 'locked') {
        throw new AppError('RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED', 'locked', {
          retryAfterMs: 90_500,
        });
      }
      if (request.userId === 'bad')
        throw invalidArgument([{ field: 'user_id', description: 'must be a UUID' }]);
      return {
        user: userv1.User.fromPartial({
          id: request.userId,
          email: 'a@x.io',
          displayName: 'A',
          status: 1,
        }),
      };
    },
  });
  address = `127.0.0.1:${await server.listen()}`;
});

afterAll(() => server.shutdown(1000));

const client = () => createClient(userv1.UserServiceClient, { address, serviceKey: KEY });

function withMetadata(metadata: Metadata, userId: string): Promise<userv1.GetUserResponse> {
  const c = client();
  return new Promise((resolve, reject) =>
    c.getUser({ userId }, metadata, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected failure');
}

describe('GrpcServer', () => {
  it('serves a call from a caller with a valid service key', async () => {
    const c = client();
    const response = await callUnary(c.getUser, c, { userId: 'u-42' });
    expect(response.user?.id).toBe('u-42');
    expect(seen.at(-1)).toEqual({ user: undefined, service: 'gateway' });
  });

  it('refuses a caller without a valid service identity: UNAUTHENTICATED', async () => {
    const anonymous = createClient(userv1.UserServiceClient, { address });
    const error = await failure(callUnary(anonymous.getUser, anonymous, { userId: 'u' }));
    expect(error).toMatchObject({ kind: 'UNAUTHENTICATED', reason: 'SERVICE_IDENTITY_REQUIRED' });
    const wrong = createClient(userv1.UserServiceClient, {
      address,
      serviceKey: 'not-the-key-at-all-000',
    });
    await expect(callUnary(wrong.getUser, wrong, { userId: 'u' })).rejects.toMatchObject({
      kind: 'UNAUTHENTICATED',
    });
  });

  it('resolves a bearer token into the user principal', async () => {
    const metadata = new Metadata();
    metadata.set('authorization', 'Bearer wst_good');
    await withMetadata(metadata, 'u-1');
    expect(seen.at(-1)).toEqual({ user: 'u1', service: 'gateway' });
  });

  it('refuses an unknown or malformed bearer token with UNAUTHENTICATED and its reason', async () => {
    const unknown = new Metadata();
    unknown.set('authorization', 'Bearer wst_nope');
    expect(fromServiceError(await failure(withMetadata(unknown, 'u')))).toMatchObject({
      reason: 'SESSION_NOT_FOUND',
    });
    const malformed = new Metadata();
    malformed.set('authorization', 'Basic abc');
    expect(fromServiceError(await failure(withMetadata(malformed, 'u')))).toMatchObject({
      reason: 'MALFORMED_AUTHORIZATION',
    });
  });

  it('carries x-warden-min-revision into the call context, and on to the calls made for it', async () => {
    await withMetadata(withMinRevision(42), 'u-rev');
    expect(seen.at(-1)).toEqual({ user: undefined, service: 'gateway', minRevision: 42 });
    await withMetadata(withMinRevision(0), 'u-rev'); // no write to read: nothing set
    expect(seen.at(-1)?.minRevision).toBeUndefined();
    expect(outgoingMetadata({ minRevision: 42 }).get(MIN_REVISION_METADATA)).toEqual(['42']);
    expect(outgoingMetadata({}).get(MIN_REVISION_METADATA)).toEqual([]);
  });

  it('refuses an x-warden-min-revision that is not a positive integer: INVALID_ARGUMENT naming it', async () => {
    for (const value of ['0', '-3', 'abc', '1.5', '1e3', '99999999999999999999']) {
      const metadata = new Metadata();
      metadata.set(MIN_REVISION_METADATA, value);
      const error = fromServiceError(await failure(withMetadata(metadata, 'u')));
      expect(error).toMatchObject({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_ARGUMENT' });
      expect(error.violations).toEqual([
        { field: MIN_REVISION_METADATA, description: expect.stringContaining('positive integer') },
      ]);
    }
  });

  it('maps AppError to its code with ErrorInfo and BadRequest details', async () => {
    const c = client();
    const error = await failure(callUnary(c.getUser, c, { userId: 'bad' }));
    expect(error).toMatchObject({ kind: 'INVALID_ARGUMENT', reason: 'INVALID_ARGUMENT' });
    expect((error as unknown as AppError).violations).toEqual([
      { field: 'user_id', description: 'must be a UUID' },
    ]);
  });

  it('carries google.rpc.RetryInfo when the error says when to retry', async () => {
    const c = client();
    const error = (await failure(
      callUnary(c.getUser, c, { userId: 'locked' }),
    )) as unknown as AppError;
    expect(error).toMatchObject({
      kind: 'RESOURCE_EXHAUSTED',
      reason: 'ACCOUNT_LOCKED',
      retryAfterMs: 90_500,
    });
  });

  it("records a server span per call, as a child of the caller's traceparent, when tracing is on", async () => {
    const recording = recordingTracer();
    try {
      const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const metadata = new Metadata();
      metadata.set('x-warden-service-key', KEY);
      metadata.set('traceparent', parent);
      await withMetadata(metadata, 'u9');
      const c = client();
      await failure(callUnary(c.getUser, c, { userId: 'bad' }));
      await failure(callUnary(c.getUser, c, { userId: 'boom' }));
    } finally {
      recording.restore();
    }
    const spans = recording.spans.filter((span) => span.kind === 'server');
    expect(spans).toHaveLength(3);
    const [ok, clientFault, serverFault] = spans;
    expect(ok).toMatchObject({
      name: 'warden.user.v1.UserService/GetUser',
      kind: 'server',
      parent: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': 'warden.user.v1.UserService',
        'rpc.method': 'GetUser',
        'rpc.grpc.status_code': status.OK,
      },
    });
    // Same trace, a span of its own, and a duration.
    expect(ok!.context.traceparent).toMatch(
      /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/,
    );
    expect(ok!.context.traceparent).not.toBe(ok!.parent!.traceparent);
    expect(ok!.endMs).toBeGreaterThanOrEqual(ok!.startMs);
    expect(ok!.error).toBeUndefined();
    // A client error is not the server's failure; an unknown one is, without its details.
    expect(clientFault!.attributes!['rpc.grpc.status_code']).toBe(status.INVALID_ARGUMENT);
    expect(clientFault!.error).toBeUndefined();
    expect(serverFault!.error).toBe('internal error');
    // callUnary's calls are CLIENT spans, each the parent of the server span it caused.
    const calls = recording.spans.filter((span) => span.kind === 'client');
    expect(calls.map((call) => [call.name, call.error])).toEqual([
      ['warden.user.v1.UserService/GetUser', 'INVALID_ARGUMENT'],
      ['warden.user.v1.UserService/GetUser', 'INTERNAL'],
    ]);
    expect(clientFault!.parent).toEqual(calls[0]!.context);
    expect(serverFault!.parent).toEqual(calls[1]!.context);
  });

  it("passes the caller's tracestate and unsampled flag on to the server span and the next call", async () => {
    const recording = recordingTracer();
    try {
      const c = client();
      await callUnary(
        c.getUser,
        c,
        { userId: 'u1' },
        {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
          tracestate: 'warden=t',
        },
      );
    } finally {
      recording.restore();
    }
    const [call, served] = ['client', 'server'].map((kind) =>
      recording.spans.find((span) => span.kind === kind)!,
    );
    expect(call!.context.traceparent).toMatch(/-00$/);
    expect(call!.context.tracestate).toBe('warden=t');
    expect(served!.parent).toEqual(call!.context);
    expect(served!.context.tracestate).toBe('warden=t');
  });

  it('hides unknown errors behind a bare INTERNAL', async () => {
    const c = client();
    const error = (await failure(
      callUnary(c.getUser, c, { userId: 'boom' }),
    )) as unknown as AppError;
    expect(error.kind).toBe('INTERNAL');
    expect(error.message).toBe('internal error');
    expect(JSON.stringify(error)).not.toContain('SELECT');
  });

  it('answers an error isUnavailable recognizes (a lost database) with UNAVAILABLE, saying no more', async () => {
    const c = client();
    const error = (await failure(
      callUnary(c.getUser, c, { userId: 'db-down' }),
    )) as unknown as AppError;
    expect(error.kind).toBe('UNAVAILABLE');
    expect(error.reason).toBe('UNAVAILABLE');
    expect(error.retryAfterMs).toBe(1_000);
    expect(JSON.stringify(error)).not.toContain('10.0.0.7');
  });

  it('answers undecodable bytes with INVALID_ARGUMENT, not INTERNAL', async () => {
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
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fromServiceError(error).reason).toBe('MALFORMED_REQUEST');
  });

  it('refuses an oversized message with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const c = client();
    const error = await failure(callUnary(c.getUser, c, { userId: 'x'.repeat(200 * 1024) }));
    expect(error).toMatchObject({ kind: 'RESOURCE_EXHAUSTED' });
    await expect(callUnary(c.getUser, c, { userId: 'still-here' })).resolves.toMatchObject({
      user: { id: 'still-here' },
    });
  });

  it('reports SERVING on grpc.health.v1 for the server and the service', async () => {
    await waitForServing(address, { timeoutMs: 2000 });
    await waitForServing(address, { service: 'warden.user.v1.UserService', timeoutMs: 2000 });
    await expect(
      waitForServing(address, { service: 'no.such.Service', timeoutMs: 300 }),
    ).rejects.toThrow(/not SERVING/);
  });
});

describe('gRPC reflection', () => {
  type ReflectionClient = Client & {
    ServerReflectionInfo(metadata?: Metadata): ClientDuplexStream<unknown, ReflectionResponse>;
  };
  function reflectionClient(target: string): ReflectionClient {
    const reflectionProto = join(
      dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
      'build/proto/grpc/reflection/v1/reflection.proto',
    );
    const loaded = loadPackageDefinition(
      loadSync(reflectionProto, { keepCase: true }),
    ) as unknown as {
      grpc: {
        reflection: {
          v1: {
            ServerReflection: new (address: string, creds: ChannelCredentials) => ReflectionClient;
          };
        };
      };
    };
    return new loaded.grpc.reflection.v1.ServerReflection(target, credentials.createInsecure());
  }

  /** One list_services exchange; the refusal, if any, as the error. */
  async function listServices(target: string, metadata: Metadata): Promise<ReflectionResponse> {
    const reflection = reflectionClient(target);
    const stream = reflection.ServerReflectionInfo(metadata);
    try {
      return await new Promise<ReflectionResponse>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ list_services: '' });
      });
    } finally {
      stream.end();
      reflection.close();
    }
  }

  const withKey = (key: string) => {
    const metadata = new Metadata();
    metadata.set('x-warden-service-key', key);
    return metadata;
  };

  it('lists the services this server serves to an identified caller', async () => {
    const response = await listServices(address, withKey(KEY));
    expect(response.list_services_response?.service.map((s) => s.name)).toEqual([
      'warden.user.v1.UserService',
    ]);
  });

  it('refuses a caller without a service identity, like every other RPC', async () => {
    for (const metadata of [new Metadata(), withKey('not-a-key-of-this-server-0')]) {
      const error = (await listServices(address, metadata).catch(
        (caught: unknown) => caught,
      )) as ServiceError;
      expect(error.code).toBe(status.UNAUTHENTICATED);
      expect(fromServiceError(error).reason).toBe('SERVICE_IDENTITY_REQUIRED');
    }
  });

  /** A server of its own, so that its reflection has not loaded yet when the test calls. */
  async function freshServer(descriptors = descriptorSetPath): Promise<{
    target: string;
    stop(): Promise<void>;
  }> {
    const fresh = new GrpcServer({ ...SERVER_OPTIONS, descriptorSetPath: descriptors });
    fresh.addService(definition, {
      getUser: async (request) => ({ user: userv1.User.fromPartial({ id: request.userId }) }),
    });
    return { target: `127.0.0.1:${await fresh.listen()}`, stop: () => fresh.shutdown(1000) };
  }

  it('answers requests sent together while reflection loads at the first call, in order', async () => {
    const { target, stop } = await freshServer();
    const reflection = reflectionClient(target);
    const stream = reflection.ServerReflectionInfo(withKey(KEY));
    try {
      const answers: Array<ReflectionResponse & { original_request?: unknown }> = [];
      const ended = new Promise<void>((resolve, reject) => {
        stream.on('data', (answer) => answers.push(answer));
        stream.on('error', reject);
        stream.on('end', resolve);
      });
      stream.write({ list_services: '' });
      stream.write({ file_containing_symbol: 'warden.user.v1.UserService' });
      stream.write({ file_containing_symbol: 'no.such.Symbol' });
      stream.end();
      await ended;
      expect(answers.map((a) => Object.keys(a.original_request ?? {}))).toHaveLength(3);
      expect(answers[0]!.list_services_response?.service.map((s) => s.name)).toEqual([
        'warden.user.v1.UserService',
      ]);
      expect(answers[1]).toMatchObject({
        file_descriptor_response: { file_descriptor_proto: expect.any(Array) },
      });
      expect(answers[2]).toMatchObject({ error_response: { error_code: status.NOT_FOUND } });
    } finally {
      reflection.close();
      await stop();
    }
  });

  it('ends a stream whose message is not a reflection request with INVALID_ARGUMENT, and keeps serving', async () => {
    const { target, stop } = await freshServer();
    const Raw = makeGenericClientConstructor({}, 'Raw');
    const raw = new Raw(target, credentials.createInsecure());
    try {
      const error = await new Promise<ServiceError>((resolve) => {
        const call = raw.makeBidiStreamRequest(
          '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
          (bytes: Buffer) => bytes,
          (bytes: Buffer) => bytes,
          withKey(KEY),
        );
        call.on('data', () => undefined);
        call.on('error', resolve);
        // Field 1 with wire type 7, which protobuf does not have.
        call.write(Buffer.from([0x0f]));
      });
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      const response = await listServices(target, withKey(KEY));
      expect(response.list_services_response?.service.map((s) => s.name)).toEqual([
        'warden.user.v1.UserService',
      ]);
    } finally {
      raw.close();
      await stop();
    }
  });

  it('fails the call, not the server, when the descriptor set does not parse', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'reflection-')), 'broken.binpb');
    writeFileSync(broken, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const { target, stop } = await freshServer(broken);
    try {
      const error = (await listServices(target, withKey(KEY)).catch(
        (caught: unknown) => caught,
      )) as ServiceError;
      expect(error.code).toBe(status.INTERNAL);
      const c = createClient(userv1.UserServiceClient, { address: target, serviceKey: KEY });
      try {
        await expect(callUnary(c.getUser, c, { userId: 'still-serving' })).resolves.toMatchObject({
          user: { id: 'still-serving' },
        });
      } finally {
        c.close();
      }
    } finally {
      await stop();
    }
  });

  it('is not served at all with reflection off', async () => {
    const off = new GrpcServer({ ...SERVER_OPTIONS, reflection: false });
    off.addService(definition, { getUser: async () => ({}) });
    const target = `127.0.0.1:${await off.listen()}`;
    try {
      const error = (await listServices(target, withKey(KEY)).catch(
        (caught: unknown) => caught,
      )) as ServiceError;
      expect(error.code).toBe(status.UNIMPLEMENTED);
    } finally {
      await off.shutdown(1000);
    }
  });
});

type ReflectionResponse = { list_services_response?: { service: Array<{ name: string }> } };
