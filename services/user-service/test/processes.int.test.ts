import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MSG_ID_HEADER, STREAMS } from '@warden/events';
import { callUnary, createClient } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import {
  freePort,
  startServiceProcess,
  natsConnectOptions,
  natsEnv,
  TEST_DATABASE_URL,
  testSchema,
  waitFor,
  waitServing,
  type ServiceProcess,
  type TestSchema,
} from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesSince } from './support/stream-messages.js';

let db: TestSchema;
let nc: NatsConnection;
let server: ServiceProcess | undefined;
let worker: ServiceProcess | undefined;
let grpcPort: number;
let metricsPort: number;

beforeAll(async () => {
  db = await testSchema('user_proc');
  nc = await connect(natsConnectOptions('ops'));
  [grpcPort, metricsPort] = [await freePort(), await freePort()];
  const env = {
    DATABASE_URL: TEST_DATABASE_URL,
    ...natsEnv('user-service'),
    WARDEN_DATABASE_SCHEMA: db.schema,
    WARDEN_GRPC_HOST: '127.0.0.1',
    WARDEN_GRPC_PORT: String(grpcPort),
    WARDEN_METRICS_HOST: '127.0.0.1',
    WARDEN_METRICS_PORT: String(metricsPort),
    WARDEN_PASSWORD_HASHING_PROFILE: 'test',
    WARDEN_PASSWORD_HASHING_MEMORY_KIB: '1024',
    WARDEN_PASSWORD_HASHING_ITERATIONS: '1',
  };
  // Both migrate at start (migrate_on_start): the advisory lock lets one apply, the other wait.
  server = startServiceProcess('user-service', 'main.ts', env);
  worker = startServiceProcess('user-service', 'worker.ts', env);
  await waitServing(`127.0.0.1:${grpcPort}`, server);
});

afterAll(async () => {
  await Promise.all([server?.kill(), worker?.kill()]);
  await nc?.drain();
  await db?.drop();
});

describe('user-service processes (main.ts and worker.ts)', () => {
  it('serve RegisterUser, relay its event to WARDEN_USER, expose metrics, and stop cleanly on SIGTERM', async () => {
    const since = new Date(Date.now() - 1000);
    const client = createClient(userv1.UserServiceClient, {
      address: `127.0.0.1:${grpcPort}`,
      serviceKey: 'dev-key-gateway-000000000',
    });
    const { user } = await callUnary(client.registerUser, client, {
      email: 'process@example.com',
      password: 'process password',
      displayName: '',
      requestId: '',
    });
    client.close();

    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const published = await waitFor(
      async () => {
        const mine = (
          await messagesSince(js, jsm, STREAMS.user.name, 'warden.user.v1.registered', since)
        ).filter((msg) => msg.headers?.get('ce-subject') === user?.id);
        return mine.length > 0 && mine;
      },
      {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: `the registered event of ${user?.id} on ${STREAMS.user.name}`,
      },
    );
    expect(published).toHaveLength(1);
    // The relay marks its rows after the stream's ack, so the event can be read before its mark.
    const marked = await waitFor(
      async () => {
        const { rows } = await db.pool.query<{ id: string }>(
          'SELECT id FROM outbox WHERE published_time IS NOT NULL',
        );
        return rows.length > 0 && rows.map((r) => r.id);
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the relay marking the row it published' },
    );
    expect(marked).toEqual([published[0]!.headers?.get(MSG_ID_HEADER)]);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(
      /warden_rpc_duration_seconds_count\{[^}]*method="\/warden\.user\.v1\.UserService\/RegisterUser",code="OK"\} 1/,
    );

    expect(await server!.stop()).toBe(0);
    expect(await worker!.stop()).toBe(0);
  });
});
