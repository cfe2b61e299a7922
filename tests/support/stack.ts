import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { callUnary, createClient } from '@warden/grpc';
import { authzv1, sessionv1, userv1 } from '@warden/proto';
import {
  ensureTestDatabase,
  ensureTestNats,
  freePort,
  natsConnectOptions,
  natsConnectOptionsFor,
  natsEnv,
  natsEnvFor,
  startServiceProcess,
  TEST_DATABASE_URL,
  uniqueName,
  waitFor,
  waitServing,
  type NatsService,
  type NatsTarget,
  type ServiceProcess,
  type TestCertificate,
  type TestPki,
} from '@warden/testing';
import pg from 'pg';
import { userEventDurables } from '../../services/session-service/src/adapters/nats/user-events-consumer.js';

export const GATEWAY_KEY = 'dev-key-gateway-000000000';

export type StackService = 'user' | 'session' | 'authz';
export type StackRole = 'server' | 'worker';

export interface Stack {
  prefix: string;
  adminEmail: string;
  /** Where clients dial each service; with `replicas` > 1 an `ipv4:` list of every replica. */
  addresses: { user: string; session: string; authz: string };
  /** Each server replica's own address, by service (one entry without `replicas`). */
  replicaAddresses: Record<StackService, string[]>;
  /** Where each server answers grpc.health.v1 in plaintext (with `tls`); else its gRPC address. */
  healthAddresses: { user: string; session: string; authz: string };
  /** With `tls`: the certificate (CN=gateway) the stack's clients present. */
  gatewayCertificate?: TestCertificate;
  users: userv1.UserServiceClient;
  sessions: sessionv1.SessionServiceClient;
  authz: authzv1.AuthzServiceClient;
  processes: ServiceProcess[];
  /** The running process of one replica (0-based) of a service's server or worker. */
  replica(service: StackService, role: StackRole, index: number): ServiceProcess;
  /** SIGKILL of one replica: no shutdown step runs, as when a node dies. */
  kill(service: StackService, role: StackRole, index: number): Promise<void>;
  /**
   * Starts a killed (or running: stopped first) replica again with its environment and port;
   * a server's resolves once it answers SERVING.
   */
  restart(service: StackService, role: StackRole, index: number): Promise<void>;
  /** Replaces one service's worker with a new one started with `extraEnv` on top of its env. */
  restartWorker(
    service: 'user' | 'session' | 'authz',
    extraEnv: Record<string, string>,
  ): Promise<void>;
  /** Stops every process (SIGTERM), drops the schemas and the durable consumers. */
  stop(): Promise<void>;
}

/** user-service's production argon2id parameters (the stack defaults to cheap test ones). */
export const STANDARD_HASHING_ENV = {
  WARDEN_PASSWORD_HASHING_PROFILE: 'standard',
  WARDEN_PASSWORD_HASHING_MEMORY_KIB: '19456',
  WARDEN_PASSWORD_HASHING_ITERATIONS: '2',
};

export interface StackOptions {
  /** Extra environment per service, e.g. short session lifetimes. */
  env?: Partial<Record<'user' | 'session' | 'authz', Record<string, string>>>;
  /** mTLS between every process: each service gets a certificate (CN = its name) from this CA. */
  tls?: TestPki;
  /** Servers and workers per service (default 1); clients dial all servers round_robin. */
  replicas?: number;
  /** Another Postgres than the shared test one (e.g. a private one a test restarts). */
  databaseUrl?: string;
  /**
   * Each service's migrations Job (migrate.ts) runs before anything else starts, as a release
   * runs it; by default replica 0's server applies them as it starts, which costs the suite less.
   * Benchmarks of the processes themselves (bench/memory.ts) want the Job.
   */
  migrationsJob?: boolean;
  /**
   * Another nats-server than the run's, e.g. a loopback cluster (startWardenNatsCluster): the
   * services get its URL list and `streamReplicas` as nats.stream_replicas.
   */
  nats?: NatsTarget & { streamReplicas?: number };
}

/**
 * The three services and their workers as real processes on the real Postgres and nats-server,
 * isolated from other test files by their own schemas and durable consumer names.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const databaseUrl = options.databaseUrl ?? TEST_DATABASE_URL;
  const replicaCount = options.replicas ?? 1;
  if (!options.databaseUrl) await ensureTestDatabase();
  // Under vitest the run's nats-server; a benchmark gets one of its own.
  if (!options.nats) await ensureTestNats();
  const nats = options.nats;
  const serviceNatsEnv = (service: NatsService): Record<string, string> =>
    nats
      ? {
          ...natsEnvFor(nats, service),
          WARDEN_NATS_STREAM_REPLICAS: String(nats.streamReplicas ?? 1),
        }
      : natsEnv(service);
  const opsOptions = nats ? natsConnectOptionsFor(nats, 'ops') : natsConnectOptions('ops');
  const prefix = uniqueName('e2e');
  const adminEmail = `admin-${prefix}@example.com`;
  const [userPort, sessionPort, authzPort] = [await freePort(), await freePort(), await freePort()];
  // Replica 0 listens on the ports above, later replicas on ports of their own.
  const ports: Record<StackService, number[]> = {
    user: [userPort],
    session: [sessionPort],
    authz: [authzPort],
  };
  for (const service of SERVICES)
    for (let i = 1; i < replicaCount; i++) ports[service].push(await freePort());
  const replicaAddresses = mapServices((s) => ports[s].map((port) => `127.0.0.1:${port}`));
  const addresses = mapServices((s) =>
    replicaCount === 1 ? replicaAddresses[s][0]! : `ipv4:${replicaAddresses[s].join(',')}`,
  );
  const schemas = {
    user: `${prefix}_user`,
    session: `${prefix}_session`,
    authz: `${prefix}_authz`,
  };
  const healthPorts = options.tls
    ? [await freePort(), await freePort(), await freePort()]
    : [userPort, sessionPort, authzPort];
  const healthAddresses = {
    user: `127.0.0.1:${healthPorts[0]}`,
    session: `127.0.0.1:${healthPorts[1]}`,
    authz: `127.0.0.1:${healthPorts[2]}`,
  };
  const replicaHealthPorts = mapServices((s) =>
    ports[s].map((port, i) => (i === 0 ? healthPorts[SERVICES.indexOf(s)]! : port)),
  );
  if (options.tls)
    for (const service of SERVICES)
      for (let i = 1; i < replicaCount; i++) replicaHealthPorts[service][i] = await freePort();
  const tlsEnv = (service: string, healthPort: number): Record<string, string> => {
    if (!options.tls) return {};
    const certificate = options.tls.issue(`${service}-service`);
    return {
      WARDEN_GRPC_TLS_ENABLED: 'true',
      WARDEN_GRPC_TLS_CERT_FILE: certificate.certFile,
      WARDEN_GRPC_TLS_KEY_FILE: certificate.keyFile,
      WARDEN_GRPC_TLS_CA_FILE: certificate.caFile,
      WARDEN_GRPC_HEALTH_PORT: String(healthPort),
    };
  };
  const gatewayCertificate = options.tls?.issue('gateway');
  const durables = {
    session: `${prefix}_session_user_events`,
    authz: `${prefix}_authz_user_events`,
    /** authz-service's on WARDEN_SESSION (session-bound grants). */
    authzSessions: `${prefix}_authz_session_events`,
  };
  // session-service's workers consume on one durable per user event they act on.
  const allDurables = [durables.authz, ...userEventDurables(durables.session)];
  const common = {
    DATABASE_URL: databaseUrl,
    WARDEN_GRPC_HOST: '127.0.0.1',
    WARDEN_METRICS_HOST: '127.0.0.1',
    WARDEN_METRICS_PORT: '0',
    WARDEN_DATABASE_POOL_SIZE: '4',
    // Replicas answer each other's request_id replays only when they key records alike.
    ...(replicaCount > 1
      ? { WARDEN_IDEMPOTENCY_SECRET: `stack-idempotency-secret-${prefix}` }
      : {}),
    WARDEN_USER_SERVICE_ADDRESS: addresses.user,
    WARDEN_SESSION_ADDRESS: addresses.session,
    WARDEN_AUTHZ_ADDRESS: addresses.authz,
  };
  const env = {
    user: {
      ...common,
      ...serviceNatsEnv('user-service'),
      WARDEN_GRPC_PORT: String(userPort),
      WARDEN_DATABASE_SCHEMA: schemas.user,
      WARDEN_PASSWORD_HASHING_PROFILE: 'test',
      WARDEN_PASSWORD_HASHING_MEMORY_KIB: '1024',
      WARDEN_PASSWORD_HASHING_ITERATIONS: '1',
      WARDEN_WORKER_SWEEP_INTERVAL: '1s',
      WARDEN_WORKER_METRICS_PORT: '0',
      ...tlsEnv('user', healthPorts[0]!),
      ...options.env?.user,
    },
    session: {
      ...common,
      ...serviceNatsEnv('session-service'),
      WARDEN_GRPC_PORT: String(sessionPort),
      WARDEN_DATABASE_SCHEMA: schemas.session,
      WARDEN_EVENTS_USER_EVENTS_DURABLE: durables.session,
      // The shared test stream holds other runs' events: a fresh stack starts at the present.
      WARDEN_EVENTS_USER_EVENTS_START_FROM: 'new',
      WARDEN_SWEEPER_INTERVAL: '200ms',
      WARDEN_WORKER_METRICS_PORT: '0',
      ...tlsEnv('session', healthPorts[1]!),
      ...options.env?.session,
    },
    authz: {
      ...common,
      ...serviceNatsEnv('authz-service'),
      WARDEN_GRPC_PORT: String(authzPort),
      WARDEN_DATABASE_SCHEMA: schemas.authz,
      WARDEN_WORKER_USER_EVENTS_DURABLE: durables.authz,
      WARDEN_WORKER_USER_EVENTS_START_FROM: 'new',
      WARDEN_WORKER_SESSION_EVENTS_DURABLE: durables.authzSessions,
      WARDEN_WORKER_METRICS_PORT: '0',
      WARDEN_WORKER_EXPIRY_SWEEP_INTERVAL: '200ms',
      WARDEN_AUTHZ_BOOTSTRAP_ADMINS: adminEmail,
      // The admin registers with no mailer to verify its email (a test may turn this back on).
      WARDEN_AUTHZ_BOOTSTRAP_REQUIRES_VERIFIED_EMAIL: 'false',
      ...tlsEnv('authz', healthPorts[2]!),
      ...options.env?.authz,
    },
  };
  const processes: ServiceProcess[] = [];
  // Where each replica's process sits in `processes` (replica 0 first, as before replicas).
  const slots = new Map<string, number>();
  const slotKey = (service: StackService, role: StackRole, index: number) =>
    `${service}/${role}/${index}`;
  const replicaEnv = (service: StackService, role: StackRole, index: number) => {
    const replicaPorts: Record<string, string> =
      role === 'server' && index > 0
        ? {
            WARDEN_GRPC_PORT: String(ports[service][index]),
            ...(options.tls
              ? { WARDEN_GRPC_HEALTH_PORT: String(replicaHealthPorts[service][index]) }
              : {}),
          }
        : {};
    // The first start of replica 0's server applies its service's migrations (migrate_on_start);
    // every other start, and every worker, finds them applied.
    const migrates =
      !options.migrationsJob && role === 'server' && index === 0 && !migrated.has(service);
    return {
      ...env[service],
      WARDEN_DATABASE_MIGRATE_ON_START: String(migrates),
      ...replicaPorts,
    };
  };
  const migrated = new Set<StackService>();
  const startReplica = (service: StackService, role: StackRole, index: number) =>
    startServiceProcess(
      `${service}-service`,
      role === 'server' ? 'main.ts' : 'worker.ts',
      replicaEnv(service, role, index),
    );
  const replicaServing = (service: StackService, index: number) =>
    waitServing(
      `127.0.0.1:${replicaHealthPorts[service][index]}`,
      processes[slots.get(slotKey(service, 'server', index))!],
      // Processes under tsx on a busy two-core machine can take this long to start (a test's own
      // hook timeout still bounds it).
      180_000,
    );
  const replica = (service: StackService, role: StackRole, index: number): ServiceProcess => {
    const slot = slots.get(slotKey(service, role, index));
    if (slot === undefined) throw new Error(`no ${service} ${role} replica ${index}`);
    return processes[slot]!;
  };
  let stopping = false;
  // A process that dies while the stack is up shows up in the test's output with its last lines,
  // instead of only as UNAVAILABLE on the next call.
  const reportDeath = (process: ServiceProcess) =>
    process.child.once('exit', (code, signal) => {
      if (!stopping && code !== 0)
        console.error(
          `${process.name} exited (${code ?? signal}) while the stack was up:\n${process.output().slice(-4000)}`,
        );
    });
  const stop = async () => {
    stopping = true;
    await Promise.all(processes.map((p) => p.stop()));
    await dropSchemas(databaseUrl, Object.values(schemas));
    await deleteDurables(opsOptions, allDurables);
    await deleteDurables(opsOptions, [durables.authzSessions], 'WARDEN_SESSION');
  };
  const launch = (service: StackService, role: StackRole, index: number) => {
    const process = startReplica(service, role, index);
    if (role === 'server' && index === 0) migrated.add(service);
    reportDeath(process);
    slots.set(slotKey(service, role, index), processes.length);
    processes.push(process);
  };
  try {
    // Replica 0's servers first: each applies its service's migrations as it starts (a migrations
    // process per service cost 1.3 s of CPU, 125 s over the suite's thirty-odd stacks); the other
    // replicas and the workers start once those serve, on migrated schemas.
    // The migrations Job's own entry is tested in migrate-wait and the services' migrate tests.
    if (options.migrationsJob) await runMigrationsJobs(env);
    for (const service of SERVICES) launch(service, 'server', 0);
    await Promise.all(SERVICES.map((service) => replicaServing(service, 0)));
    for (let index = 0; index < replicaCount; index++)
      for (const service of SERVICES)
        for (const role of ['server', 'worker'] as const)
          if (role === 'worker' || index > 0) launch(service, role, index);
    await Promise.all(
      SERVICES.flatMap((service) =>
        ports[service].slice(1).map((_, i) => replicaServing(service, i + 1)),
      ),
    );
    await waitForDurables(opsOptions, allDurables);
  } catch (error) {
    await stop();
    throw error;
  }
  // The gateway's side of the same rule: its certificate with TLS, its key without.
  const gateway = gatewayCertificate
    ? { tls: { enabled: true, ...gatewayCertificate } }
    : { serviceKey: GATEWAY_KEY };
  return {
    prefix,
    adminEmail,
    addresses,
    healthAddresses,
    ...(gatewayCertificate ? { gatewayCertificate } : {}),
    users: createClient(userv1.UserServiceClient, { address: addresses.user, ...gateway }),
    sessions: createClient(sessionv1.SessionServiceClient, {
      address: addresses.session,
      ...gateway,
    }),
    authz: createClient(authzv1.AuthzServiceClient, { address: addresses.authz, ...gateway }),
    processes,
    replicaAddresses,
    replica,
    async kill(service, role, index) {
      const process = replica(service, role, index);
      stopping = true;
      await process.kill();
      stopping = false;
    },
    async restart(service, role, index) {
      const slot = slots.get(slotKey(service, role, index))!;
      stopping = true;
      await replica(service, role, index).stop();
      stopping = false;
      processes[slot] = startReplica(service, role, index);
      reportDeath(processes[slot]);
      if (role === 'server') await replicaServing(service, index);
    },
    async restartWorker(service, extraEnv) {
      const index = processes.findIndex((p) => p.name === `${service}-service/worker.ts`);
      stopping = true;
      await processes[index]!.stop();
      stopping = false;
      processes[index] = startServiceProcess(`${service}-service`, 'worker.ts', {
        ...env[service],
        WARDEN_DATABASE_MIGRATE_ON_START: 'false',
        ...extraEnv,
      });
      reportDeath(processes[index]);
    },
    stop,
  };
}

const SERVICES = ['user', 'session', 'authz'] as const;

/** Each service's migrations Job, side by side, as a release runs them; throws if one fails. */
async function runMigrationsJobs(env: Record<StackService, Record<string, string>>): Promise<void> {
  const jobs = SERVICES.map((s) => startServiceProcess(`${s}-service`, 'migrate.ts', env[s]));
  const codes = await Promise.all(
    jobs.map((job) => new Promise<number | null>((resolve) => job.child.once('exit', resolve))),
  );
  codes.forEach((code, i) => {
    if (code !== 0) throw new Error(`${jobs[i]!.name} failed:\n${jobs[i]!.output().slice(-3000)}`);
  });
}

const mapServices = <T>(fn: (service: StackService) => T): Record<StackService, T> => ({
  user: fn('user'),
  session: fn('session'),
  authz: fn('authz'),
});

async function dropSchemas(databaseUrl: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

async function withJsm<T>(
  ops: NodeConnectionOptions,
  fn: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>,
): Promise<T> {
  const nc = await connect(ops);
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

async function waitForDurables(ops: NodeConnectionOptions, durables: string[]): Promise<void> {
  await withJsm(ops, (jsm) =>
    waitFor(
      async () => {
        for (const durable of durables) await jsm.consumers.info('WARDEN_USER', durable);
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: `durable consumers ${durables.join(', ')}` },
    ),
  );
}

async function deleteDurables(
  ops: NodeConnectionOptions,
  durables: string[],
  stream = 'WARDEN_USER',
): Promise<void> {
  await withJsm(ops, async (jsm) => {
    for (const durable of durables)
      await jsm.consumers.delete(stream, durable).catch(() => undefined);
  });
}

type Normalizer = (partial: unknown) => unknown;

/** ts-proto encoders expect every scalar field: fill the rest of a partial request with defaults. */
const NORMALIZERS: Record<string, Normalizer> = Object.fromEntries(
  (
    [
      [userv1, userv1.UserServiceService],
      [sessionv1, sessionv1.SessionServiceService],
      [authzv1, authzv1.AuthzServiceService],
    ] as Array<[object, object]>
  ).flatMap(([module, service]) =>
    Object.keys(service).map((method) => {
      const type = (module as Record<string, { fromPartial?: Normalizer }>)[
        `${method[0]!.toUpperCase()}${method.slice(1)}Request`
      ];
      return [method, type?.fromPartial ?? ((partial: unknown) => partial)];
    }),
  ),
);

export const fullRequest = <Req>(method: string, partial: unknown): Req =>
  (NORMALIZERS[method] ?? ((p: unknown) => p))(partial) as Req;

/** Promise form of a unary call made by the gateway, optionally on behalf of a user's token. */
export function call<Req, Res>(
  client: object,
  method: string,
  request: Req,
  token?: string,
): Promise<Res> {
  const fn = (client as Record<string, unknown>)[method] as Parameters<
    typeof callUnary<Req, Res>
  >[0];
  return callUnary(
    fn,
    client as never,
    fullRequest<Req>(method, request),
    token ? { bearerToken: token, requestId: uniqueName('req') } : undefined,
    20_000,
  );
}
