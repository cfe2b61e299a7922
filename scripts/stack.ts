// Runs every service's migrations, then its server and worker, waits until each answers SERVING on
// grpc.health.v1, and relays their logs. SIGINT/SIGTERM stop them all gracefully.
// NATS: warden's own nats-server (deploy/nats: per-service users and permissions, streams made by
// ops), JetStream kept in .warden/nats; with NATS_URL set, that server is used instead and each
// service's WARDEN_NATS_USER/WARDEN_NATS_PASSWORD must come from the environment.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitForServing } from '@warden/grpc';
import pg from 'pg';
import { startWardenNats, type NatsService, type WardenNats } from '../libs/testing/src/nats.js';

const root = join(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const SERVICES = [
  { name: 'user-service', port: 50051 },
  { name: 'authz-service', port: 50053 },
  { name: 'session-service', port: 50052 },
] as const;

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/warden';
const children: ChildProcess[] = [];
let nats: WardenNats | undefined;

/** NATS_URL and this service's NATS user, for a service process. */
function natsEnvOf(service: NatsService): Record<string, string> {
  if (!nats) return {};
  return {
    NATS_URL: nats.url,
    WARDEN_NATS_USER: service,
    WARDEN_NATS_PASSWORD: nats.passwords[service],
  };
}

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

function start(service: NatsService, entry: string): ChildProcess {
  const child = spawn(tsx, [join('src', entry)], {
    cwd: join(root, 'services', service),
    env: { ...process.env, DATABASE_URL: databaseUrl, ...natsEnvOf(service) },
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
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
  );
  await nats?.stop();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

await ensureDatabase();
if (!process.env.NATS_URL) {
  const storeDir = join(root, '.warden', 'nats');
  mkdirSync(storeDir, { recursive: true });
  nats = await startWardenNats({ storeDir, logFile: join(storeDir, 'nats-server.log') });
  console.error(`stack: nats-server (warden users) on ${nats.url}, log in .warden/nats`);
}
try {
  for (const { name } of SERVICES) {
    if (!existsSync(join(root, 'services', name, 'src', 'migrate.ts'))) continue;
    const result = spawnSync(tsx, ['src/migrate.ts'], {
      cwd: join(root, 'services', name),
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    if (result.status !== 0) throw new Error(`${name}: migrations failed`);
  }
  for (const { name, port } of SERVICES) {
    start(name, 'main.ts');
    start(name, 'worker.ts');
    await waitForServing(`127.0.0.1:${port}`);
    console.error(`stack: ${name} SERVING on 127.0.0.1:${port}`);
  }
} catch (error) {
  console.error(`stack: ${(error as Error).message}`);
  await stop(1);
}
console.error('stack: all services SERVING (Ctrl-C stops them)');
