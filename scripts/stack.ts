// Runs every service's migrations, then its server and worker, waits until each answers SERVING on
// grpc.health.v1, and relays their logs. SIGINT/SIGTERM stop them all gracefully.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitForServing } from '@warden/grpc';
import pg from 'pg';

const root = join(import.meta.dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const SERVICES = [
  { name: 'user-service', port: 50051 },
  { name: 'authz-service', port: 50053 },
  { name: 'session-service', port: 50052 },
] as const;

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/warden';
const children: ChildProcess[] = [];

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

function start(service: string, entry: string): ChildProcess {
  const child = spawn(tsx, [join('src', entry)], {
    cwd: join(root, 'services', service),
    env: { ...process.env, DATABASE_URL: databaseUrl },
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
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

await ensureDatabase();
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
console.error('stack: all services SERVING (Ctrl-C stops them)');
