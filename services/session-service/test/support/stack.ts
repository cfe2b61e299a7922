import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { STREAMS } from '@warden/events';
import {
  freePort,
  startServiceProcess,
  natsConnectOptions,
  natsEnv,
  TEST_DATABASE_URL,
  testSchema,
  uniqueName,
  waitFor,
  waitServing,
  type ServiceProcess,
  type TestSchema,
} from '@warden/testing';
import { userEventDurables } from '../../src/adapters/nats/user-events-consumer.js';

export interface Stack {
  user: string;
  authz: string;
  /** Two session-service replicas with the default lifetimes. */
  sessionA: string;
  sessionB: string;
  /** A third replica whose sessions idle out after 2 s and expire after 4 s. */
  sessionShort: string;
  schemas: { user: TestSchema; authz: TestSchema; session: TestSchema };
  processes: ServiceProcess[];
  stop(): Promise<void>;
}

const host = (port: number) => `127.0.0.1:${port}`;

/**
 * The whole system as real processes, each service on a schema of its own, on the real
 * Postgres and NATS. session-service's sweeper runs once at start and then not for an hour, so
 * expiry is seen through validation alone.
 */
export async function startStack(options: {
  adminEmail: string;
  maxFailures: number;
}): Promise<Stack> {
  const durables = { authz: uniqueName('authz_test'), session: uniqueName('session_test') };
  const schemas = {
    user: await testSchema('st_user'),
    authz: await testSchema('st_authz'),
    session: await testSchema('st_session'),
  };
  const ports = {
    user: await freePort(),
    authz: await freePort(),
    a: await freePort(),
    b: await freePort(),
    c: await freePort(),
  };
  const common = {
    DATABASE_URL: TEST_DATABASE_URL,
    WARDEN_GRPC_HOST: '127.0.0.1',
    WARDEN_METRICS_HOST: '127.0.0.1',
  };
  const addresses = {
    WARDEN_AUTHZ_ADDRESS: host(ports.authz),
    WARDEN_SESSION_ADDRESS: host(ports.a),
  };
  const user = {
    ...common,
    ...natsEnv('user-service'),
    ...addresses,
    WARDEN_DATABASE_SCHEMA: schemas.user.schema,
    WARDEN_PASSWORD_HASHING_PROFILE: 'test',
    WARDEN_PASSWORD_HASHING_MEMORY_KIB: '1024',
    WARDEN_PASSWORD_HASHING_ITERATIONS: '1',
    WARDEN_LOCKOUT_MAX_FAILURES: String(options.maxFailures),
  };
  const authz = {
    ...common,
    ...natsEnv('authz-service'),
    ...addresses,
    WARDEN_DATABASE_SCHEMA: schemas.authz.schema,
    WARDEN_AUTHZ_BOOTSTRAP_ADMINS: options.adminEmail,
    // Its admin has no mailer to verify the email with (as tests/support/stack.ts).
    WARDEN_AUTHZ_BOOTSTRAP_REQUIRES_VERIFIED_EMAIL: 'false',
    // The worker asks user-service for a bootstrap admin's email.
    WARDEN_USER_SERVICE_ADDRESS: host(ports.user),
    WARDEN_WORKER_USER_EVENTS_DURABLE: durables.authz,
    WARDEN_WORKER_USER_EVENTS_START_FROM: 'new',
    WARDEN_WORKER_SESSION_EVENTS_DURABLE: `${durables.authz}_sessions`,
    WARDEN_WORKER_METRICS_PORT: String(await freePort()),
  };
  const session = {
    ...common,
    ...natsEnv('session-service'),
    WARDEN_AUTHZ_ADDRESS: host(ports.authz),
    WARDEN_USER_SERVICE_ADDRESS: host(ports.user),
    WARDEN_DATABASE_SCHEMA: schemas.session.schema,
    WARDEN_EVENTS_USER_EVENTS_DURABLE: durables.session,
    WARDEN_EVENTS_USER_EVENTS_START_FROM: 'new',
    WARDEN_SWEEPER_INTERVAL: '1h',
    WARDEN_METRICS_PORT: '0',
  };
  const short = {
    ...session,
    WARDEN_SESSION_IDLE_TIMEOUT: '2s',
    WARDEN_SESSION_ABSOLUTE_TTL: '4s',
    WARDEN_SESSION_LAST_SEEN_FLUSH_INTERVAL: '200ms',
  };
  const processes = [
    startServiceProcess('user-service', 'main.ts', {
      ...user,
      WARDEN_GRPC_PORT: String(ports.user),
      WARDEN_METRICS_PORT: String(await freePort()),
    }),
    startServiceProcess('user-service', 'worker.ts', {
      ...user,
      WARDEN_METRICS_PORT: String(await freePort()),
    }),
    startServiceProcess('authz-service', 'main.ts', {
      ...authz,
      WARDEN_GRPC_PORT: String(ports.authz),
      WARDEN_METRICS_PORT: String(await freePort()),
    }),
    startServiceProcess('authz-service', 'worker.ts', {
      ...authz,
      WARDEN_METRICS_PORT: String(await freePort()),
    }),
    startServiceProcess('session-service', 'main.ts', {
      ...session,
      WARDEN_GRPC_PORT: String(ports.a),
    }),
    startServiceProcess('session-service', 'main.ts', {
      ...session,
      WARDEN_GRPC_PORT: String(ports.b),
    }),
    startServiceProcess('session-service', 'main.ts', {
      ...short,
      WARDEN_GRPC_PORT: String(ports.c),
    }),
    startServiceProcess('session-service', 'worker.ts', {
      ...session,
      WARDEN_WORKER_METRICS_PORT: '0',
    }),
  ];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop(5_000)));
    await Promise.all(Object.values(schemas).map((s) => s.drop()));
    await deleteDurables([durables.authz, ...userEventDurables(durables.session)]);
    await deleteDurables([`${durables.authz}_sessions`], STREAMS.session.name);
  };
  try {
    await Promise.all([
      waitServing(host(ports.user), processes[0], 60_000),
      waitServing(host(ports.authz), processes[2], 60_000),
      waitServing(host(ports.a), processes[4], 60_000),
      waitServing(host(ports.b), processes[5], 60_000),
      waitServing(host(ports.c), processes[6], 60_000),
    ]);
    // The workers consume from the present on: an event published before a worker's durable
    // exists never reaches it (a user's default role, seen missing when the servers came up first).
    await waitForDurables([durables.authz, ...userEventDurables(durables.session)]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    user: host(ports.user),
    authz: host(ports.authz),
    sessionA: host(ports.a),
    sessionB: host(ports.b),
    sessionShort: host(ports.c),
    schemas,
    processes,
    stop,
  };
}

async function waitForDurables(names: string[]): Promise<void> {
  const nc = await connect(natsConnectOptions('ops'));
  try {
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        for (const name of names) await jsm.consumers.info(STREAMS.user.name, name);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `durable consumers ${names.join(', ')}` },
    );
  } finally {
    await nc.close();
  }
}

/** The test's durable consumers on WARDEN_USER, so they do not pile up on the shared server. */
async function deleteDurables(names: string[], stream: string = STREAMS.user.name): Promise<void> {
  const nc = await connect(natsConnectOptions('ops'));
  const jsm = await jetstreamManager(nc);
  for (const name of names) await jsm.consumers.delete(stream, name).catch(() => undefined);
  await nc.close();
}
