import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type Client,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromServiceError, waitForServing } from '@warden/grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_KEY, startStack, type Stack } from '../support/stack.js';

/**
 * Review finding 9: gRPC reflection answered anyone who could reach the port, mapping every RPC
 * and message for an intruder. Over the real processes: reflection needs a service identity like
 * every other RPC, is not served at all with grpc.reflection off (the k8s base), and health stays
 * open for probes.
 */

// grpc.reflection.v1 by hand, as a grpcurl would speak it: ServerReflectionRequest{list_services=7}.
const LIST_SERVICES = Buffer.from([0x3a, 0x00]);
const ServerReflection = makeGenericClientConstructor(
  {
    serverReflectionInfo: {
      path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      requestStream: true,
      responseStream: true,
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  'ServerReflection',
);
type ReflectionClient = Client & {
  serverReflectionInfo(metadata: Metadata): ClientDuplexStream<Buffer, Buffer>;
};

/** The length-delimited fields numbered `field` of a protobuf message (enough for these replies). */
function fieldsOf(message: Buffer, field: number): Buffer[] {
  const found: Buffer[] = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < message.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const length = varint();
      if (tag >>> 3 === field) found.push(message.subarray(at, at + length));
      at += length;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return found;
}

/** ServerReflectionResponse.list_services_response(6).service(1).name(1). */
const serviceNames = (response: Buffer): string[] =>
  fieldsOf(response, 6)
    .flatMap((list) => fieldsOf(list, 1))
    .flatMap((service) => fieldsOf(service, 1))
    .map((name) => name.toString('utf8'));

let stack: Stack;

beforeAll(async () => {
  // authz-service runs as the k8s base configures it: reflection off.
  stack = await startStack({ env: { authz: { WARDEN_GRPC_REFLECTION: 'false' } } });
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

function listServices(address: string, key?: string): Promise<string[]> {
  const client = new ServerReflection(
    address,
    credentials.createInsecure(),
  ) as unknown as ReflectionClient;
  const metadata = new Metadata();
  if (key) metadata.set('x-warden-service-key', key);
  const stream = client.serverReflectionInfo(metadata);
  return new Promise<string[]>((resolve, reject) => {
    stream.on('data', (response: Buffer) => resolve(serviceNames(response)));
    stream.on('error', reject);
    stream.write(LIST_SERVICES);
  }).finally(() => {
    stream.end();
    client.close();
  });
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('reflection answered');
    },
    (error: ServiceError) => error,
  );

describe('gRPC reflection', () => {
  it('refuses a caller without a service identity, or with a wrong key', async () => {
    for (const address of [stack.addresses.user, stack.addresses.session]) {
      for (const key of [undefined, 'not-a-key-of-this-stack-000']) {
        const error = await refusal(listServices(address, key));
        expect(error.code, address).toBe(status.UNAUTHENTICATED);
        expect(fromServiceError(error).reason).toBe('SERVICE_IDENTITY_REQUIRED');
        expect(error.details).not.toMatch(/warden\.(user|session)\.v1/);
      }
    }
  });

  it('answers an identified caller with the services of that server only', async () => {
    expect(await listServices(stack.addresses.user, GATEWAY_KEY)).toEqual([
      'warden.user.v1.UserService',
    ]);
    expect(await listServices(stack.addresses.session, GATEWAY_KEY)).toEqual([
      'warden.session.v1.SessionService',
    ]);
  });

  it('is not served at all with grpc.reflection off, even to an identified caller', async () => {
    const error = await refusal(listServices(stack.addresses.authz, GATEWAY_KEY));
    expect(error.code).toBe(status.UNIMPLEMENTED);
  });

  it('leaves grpc.health.v1 open without any identity, for probes', async () => {
    for (const address of Object.values(stack.addresses))
      await expect(waitForServing(address, { timeoutMs: 5_000 })).resolves.toBeUndefined();
  });
});
