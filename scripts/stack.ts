// Runs every service's migrations, then its server and worker, waits until each answers SERVING on
// grpc.health.v1, and relays their logs. SIGINT/SIGTERM stop them all gracefully.
// NATS: warden's own nats-server (deploy/nats: per-service users and permissions, streams made by
// ops), JetStream kept in .warden/nats; with NATS_URL set, that server is used instead and each
// service's WARDEN_NATS_USER/WARDEN_NATS_PASSWORD must come from the environment.
// --replicas N (2..5): N servers and N workers per service, replica i's ports the defaults + 10*i
// (gRPC) and + 20*i (metrics), every peer dialled round_robin at an `ipv4:` list of its replicas,
// and a 3-node NATS JetStream cluster on loopback (.warden/nats-cluster) whose streams have 3
// replicas (nats.stream_replicas).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { waitForServing } from '@warden/grpc';
import pg from 'pg';
import { natsEnvFor, startWardenNats, type NatsService } from '../libs/testing/src/nats.js';
import { startWardenNatsCluster } from '../libs/testing/src/nats-cluster.js';

const root = join(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const SERVICES = [
  { name: 'user-service', port: 50051, metrics: 9451, workerMetrics: 9461, peer: 'USER_SERVICE' },
  { name: 'authz-service', port: 50053, metrics: 9453, workerMetrics: 9463, peer: 'AUTHZ' },
  { name: 'session-service', port: 50052, metrics: 9452, workerMetrics: 9462, peer: 'SESSION' },
] as const;

const { values } = parseArgs({ options: { replicas: { type: 'string', default: '1' } } });
const replicas = Number(values.replicas);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
  console.error(`stack: --replicas ${values.replicas}: give 1 to 5`);
  process.exit(2);
}
const clustered = replicas > 1;

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/warden';
const children: ChildProcess[] = [];
let stopNats: (() => Promise<void>) | undefined;
/** NATS_URL, this service's NATS user and the streams' replicas, for a service process. */
let natsEnvOf: (service: NatsService) => Record<string, string> = () => ({});

/** Replica i's gRPC address of a service. */
const grpcAddress = (port: number, i: number) => `127.0.0.1:${port + 10 * i}`;
/** Where clients dial a service: its one address, or every replica's as a round-robin list. */
const dialTarget = (port: number) =>
  clustered
    ? `ipv4:${Array.from({ length: replicas }, (_, i) => grpcAddress(port, i)).join(',')}`
    : grpcAddress(port, 0);

async function ensureDatabase(): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (!rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
}

/** Ports and peer addresses of replica `i`; nothing for a single replica (config.yaml's defaults). */
function replicaEnv(service: (typeof SERVICES)[number], i: number): Record<string, string> {
  if (!clustered) return {};
  return {
    WARDEN_GRPC_PORT: String(service.port + 10 * i),
    WARDEN_METRICS_PORT: String(service.metrics + 20 * i),
    WARDEN_WORKER_METRICS_PORT: String(service.workerMetrics + 20 * i),
    ...Object.fromEntries(SERVICES.map((s) => [`WARDEN_${s.peer}_ADDRESS`, dialTarget(s.port)])),
  };
}

function start(service: NatsService, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(tsx, [join('src', entry)], {
    cwd: join(root, 'services', service),
    env: { ...process.env, DATABASE_URL: databaseUrl, ...natsEnvOf(service), ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`stack: ${service} ${entry} exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null,
    ),
  );
  await stopNats?.();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  await ensureDatabase();
  if (!process.env.NATS_URL && clustered) {
    const storeDir = join(root, '.warden', 'nats-cluster');
    mkdirSync(storeDir, { recursive: true });
    const cluster = await startWardenNatsCluster({ size: 3, storeDir, logDir: storeDir });
    stopNats = () => cluster.stop();
    natsEnvOf = (service) => ({
      ...natsEnvFor(cluster, service),
      WARDEN_NATS_STREAM_REPLICAS: String(cluster.streamReplicas),
    });
    console.error(
      `stack: 3-node nats-server cluster (warden users) on ${cluster.url}, streams with ${cluster.streamReplicas} replicas, logs in .warden/nats-cluster`,
    );
  } else if (!process.env.NATS_URL) {
    const storeDir = join(root, '.warden', 'nats');
    mkdirSync(storeDir, { recursive: true });
    const nats = await startWardenNats({ storeDir, logFile: join(storeDir, 'nats-server.log') });
    stopNats = () => nats.stop();
    natsEnvOf = (service) => natsEnvFor(nats, service);
    console.error(`stack: nats-server (warden users) on ${nats.url}, log in .warden/nats`);
  }
  for (const { name } of SERVICES) {
    if (!existsSync(join(root, 'services', name, 'src', 'migrate.ts'))) continue;
    const result = spawnSync(tsx, ['src/migrate.ts'], {
      cwd: join(root, 'services', name),
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    if (result.status !== 0) throw new Error(`${name}: migrations failed`);
  }
  for (const service of SERVICES) {
    for (let i = 0; i < replicas; i++) {
      start(service.name, 'main.ts', replicaEnv(service, i));
      start(service.name, 'worker.ts', replicaEnv(service, i));
    }
    for (let i = 0; i < replicas; i++) {
      await waitForServing(grpcAddress(service.port, i), { timeoutMs: 120_000 });
      console.error(`stack: ${service.name} SERVING on ${grpcAddress(service.port, i)}`);
    }
  }
} catch (error) {
  console.error(`stack: ${(error as Error).message}`);
  await stop(1);
}
if (clustered) {
  console.error(
    `stack: ${replicas} replicas of every server and worker; dial them round_robin at:`,
  );
  for (const service of SERVICES) console.error(`  ${service.name}  ${dialTarget(service.port)}`);
}
console.error('stack: all services SERVING (Ctrl-C stops them)');
