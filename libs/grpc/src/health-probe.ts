import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';

// grpc.health.v1 Check with hand-rolled codecs: HealthCheckRequest{service=1}, HealthCheckResponse{status=1}.
const Health = makeGenericClientConstructor(
  {
    check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (service: string) =>
        service
          ? Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(service)]), Buffer.from(service)])
          : Buffer.alloc(0),
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => (bytes.length >= 2 ? bytes[1] : 0),
    },
  },
  'Health',
);

type HealthClient = Client & {
  check(
    service: string,
    options: { deadline: number },
    callback: (error: ServiceError | null, status?: number) => void,
  ): void;
};

const SERVING = 1;

/** Polls grpc.health.v1 until `address` reports SERVING; `alive` may throw to stop early. */
export async function waitForServing(
  address: string,
  {
    service = '',
    timeoutMs = 30_000,
    alive,
  }: { service?: string; timeoutMs?: number; alive?: () => void } = {},
): Promise<void> {
  // grpc-js backs off exponentially between connection attempts (1 s, 1.6 s, ... up to 120 s): a
  // process that took 30 s to start listening was seen 10 to 20 s later. A probe on a few attempts
  // a second sees it within a poll.
  const client = new Health(address, credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 250,
  }) as unknown as HealthClient;
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      alive?.();
      const serving = await new Promise<boolean>((resolve) =>
        client.check(service, { deadline: Date.now() + 1000 }, (error, status) =>
          resolve(!error && status === SERVING),
        ),
      );
      if (serving) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${address} not SERVING after ${timeoutMs} ms`);
  } finally {
    client.close();
  }
}

/** grpc.health.v1 statuses as numbers on the wire. */
export const HEALTH_STATUS = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
} as const;

/** One grpc.health.v1 Check of `service` ("" for the whole process) at `address`, plaintext. */
export async function checkHealth(
  address: string,
  service = '',
  timeoutMs = 1_000,
): Promise<number> {
  const client = new Health(address, credentials.createInsecure()) as unknown as HealthClient;
  try {
    return await new Promise<number>((resolve, reject) =>
      client.check(service, { deadline: Date.now() + timeoutMs }, (error, status) =>
        error ? reject(error) : resolve(status ?? HEALTH_STATUS.UNKNOWN),
      ),
    );
  } finally {
    client.close();
  }
}
