import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkHealth, HEALTH_STATUS } from '@warden/grpc';
import { ensureTestNats, freePort, natsEnv, TEST_DATABASE_URL, waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Readiness over a real process: its Postgres and its NATS are reached through TCP proxies on
// loopback that the test cuts (every connection reset, new ones refused) and restores.
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/health-process.ts', import.meta.url));
const GRACE_MS = 1_000;

/** A loopback TCP forwarder to host:port that can be cut and restored (same port). */
async function tcpProxy(target: { host: string; port: number }) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = createConnection(target);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            sockets.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => resolve());
      server = listening;
    });
  await open();
  return {
    port,
    restore: open,
    async cut() {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (closing) await new Promise((resolve) => closing.close(resolve));
    },
  };
}

const { SERVING, NOT_SERVING } = HEALTH_STATUS;

interface Fixture {
  role: 'worker' | 'server';
  child: ChildProcess;
  output: string;
  address: string;
}

const fixtures: Fixture[] = [];
let postgres: Awaited<ReturnType<typeof tcpProxy>>;
let nats: Awaited<ReturnType<typeof tcpProxy>>;

const worker = () => fixtures.find((f) => f.role === 'worker')!;
const printed = () => fixtures.map((f) => `--- ${f.role}:\n${f.output}`).join('\n');

/** Waits (bounded) until every fixture reports `expected` for `service`; returns how long it took. */
async function becomes(expected: number, service = ''): Promise<number> {
  const started = Date.now();
  await waitFor(
    async () => {
      for (const { address } of fixtures)
        if ((await checkHealth(address, service)) !== expected) return false;
      return true;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `health ${service || '""'} = ${expected}` },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the processes printed:\n${printed()}`);
  });
  return Date.now() - started;
}

async function expectEvery(expected: number, service = ''): Promise<void> {
  for (const { role, address } of fixtures)
    expect(await checkHealth(address, service), `${role} ${service}`).toBe(expected);
}

async function spawnFixture(role: Fixture['role'], configFile: string): Promise<Fixture> {
  const healthPort = role === 'worker' ? await freePort() : 0;
  const child = spawn(TSX, [FIXTURE], {
    env: {
      ...process.env,
      ...natsEnv('user-service'),
      WARDEN_NATS_URL: `nats://127.0.0.1:${nats.port}`, // the fixture reads no NATS_URL alias
      FIXTURE_CONFIG: configFile,
      FIXTURE_ROLE: role,
      FIXTURE_HEALTH_PORT: String(healthPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const fixture: Fixture = { role, child, output: '', address: '' };
  fixtures.push(fixture);
  child.stdout!.on('data', (chunk: Buffer) => (fixture.output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (fixture.output += chunk.toString()));
  const port = await waitFor(() => /health (\d+)/.exec(fixture.output)?.[1], {
    timeoutMs: 30_000,
    intervalMs: 100,
  }).catch((error: unknown) => {
    throw new Error(`${role} fixture did not start: ${fixture.output}`, { cause: error });
  });
  fixture.address = `127.0.0.1:${port}`;
  return fixture;
}

beforeAll(async () => {
  await ensureTestNats();
  const database = new URL(TEST_DATABASE_URL);
  postgres = await tcpProxy({
    host: database.hostname || '127.0.0.1',
    port: Number(database.port || 5432),
  });
  const natsTarget = new URL(natsEnv('user-service').NATS_URL!.split(',')[0]!);
  nats = await tcpProxy({ host: natsTarget.hostname, port: Number(natsTarget.port || 4222) });
  database.hostname = '127.0.0.1';
  database.port = String(postgres.port);

  const configFile = join(mkdtempSync(join(tmpdir(), 'runtime-ready-')), 'config.yaml');
  writeFileSync(
    configFile,
    `
grpc: { host: 127.0.0.1, port: 0, max_message_bytes: 4194304, shutdown_grace: 1s, health_port: 0,
  max_connection_age: 5m,
  reflection: false, allow_insecure: false, tls: { enabled: false, cert_file: '', key_file: '', ca_file: '' } }
health: { dependency_grace: ${GRACE_MS}ms, dependency_interval: 200ms }
metrics: { host: 127.0.0.1, port: 0 }
database: { url: '${database.href}', schema: public, pool_size: 2, migrate_on_start: false }
nats: { url: 'nats://127.0.0.1:4222', user: '', password: '', credentials_file: '',
  tls: { enabled: false, ca_file: '', cert_file: '', key_file: '' } }
auth: { service_keys: {}, service_keys_file: '', client_key: 'fixture-key-0000000000', allowed_services: [] }
log: { level: warn }
telemetry: { otlp_endpoint: '' }
idempotency: { secret: '', previous_secrets: [] }
`,
  );
  await Promise.all([spawnFixture('worker', configFile), spawnFixture('server', configFile)]);
});

afterAll(async () => {
  await Promise.all(
    fixtures.map(async ({ child }) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }),
  );
  await postgres?.cut();
  await nats?.cut();
});

describe('readiness from dependencies (a real worker and a real server behind TCP proxies)', () => {
  it('serves readiness and liveness while Postgres and NATS answer', async () => {
    await expectEvery(SERVING);
    await expectEvery(SERVING, 'liveness');
    expect(await checkHealth(worker().address, 'fixture-service-worker')).toBe(SERVING);
  });

  it('turns NOT_SERVING after the grace while Postgres is cut, and SERVING once it is back; liveness stays', async () => {
    await postgres.cut();
    const tookMs = await becomes(NOT_SERVING);
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_MS - 300);
    expect(await checkHealth(worker().address, 'fixture-service-worker')).toBe(NOT_SERVING);
    await expectEvery(SERVING, 'liveness');
    await postgres.restore();
    await becomes(SERVING);
    expect(await checkHealth(worker().address, 'fixture-service-worker')).toBe(SERVING);
  });

  it('turns NOT_SERVING after the grace while NATS is cut, and SERVING once it reconnects; liveness stays', async () => {
    await nats.cut();
    const tookMs = await becomes(NOT_SERVING);
    expect(tookMs).toBeGreaterThanOrEqual(GRACE_MS - 300);
    await expectEvery(SERVING, 'liveness');
    await nats.restore();
    await becomes(SERVING); // the client reconnects every second
    for (const { output } of fixtures) expect(output).toContain('dependency unreachable');
  });
});
