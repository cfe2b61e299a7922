import {
  ensureTestDatabase,
  natsEnv,
  startServiceProcess,
  TEST_DATABASE_URL,
  uniqueName,
  waitFor,
  type ServiceProcess,
} from '@warden/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// The init container of every Deployment runs `node dist/migrate.js --wait`: it must hold a new
// pod back until the release's migrate Job has applied this build's migrations, apply none itself,
// and give up with a message that says what is missing.
const schemas: string[] = [];
const started: ServiceProcess[] = [];

const migrateProcess = (schema: string, args: string[]): ServiceProcess => {
  const process = startServiceProcess(
    'user-service',
    'migrate.ts',
    {
      ...natsEnv('user-service'),
      DATABASE_URL: TEST_DATABASE_URL,
      WARDEN_DATABASE_SCHEMA: schema,
      WARDEN_DATABASE_MIGRATE_ON_START: 'false',
      WARDEN_LOG_LEVEL: 'info',
    },
    args,
  );
  started.push(process);
  return process;
};

const exitCode = (process: ServiceProcess) =>
  new Promise<number | null>((resolve) => {
    if (process.child.exitCode !== null) resolve(process.child.exitCode);
    else process.child.once('exit', (code) => resolve(code));
  });

afterAll(async () => {
  await Promise.all(started.map((p) => p.kill()));
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('migrate.js --wait (user-service)', () => {
  it('waits for the migrate Job, then exits 0 without having applied anything itself', async () => {
    await ensureTestDatabase();
    const schema = uniqueName('migwait');
    schemas.push(schema);
    const waiter = migrateProcess(schema, ['--wait', '--timeout=60s']);
    await waitFor(() => waiter.output().includes('waiting for migrations of schema'), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `the waiter's first look:\n${waiter.output()}`,
    });
    expect(waiter.child.exitCode).toBeNull();
    expect(waiter.output()).toContain('missing 20261124070000_init');

    const job = migrateProcess(schema, []);
    expect(await exitCode(job), job.output()).toBe(0);
    expect(job.output()).toContain('applied migration 20261124070000_init');
    expect(await exitCode(waiter), waiter.output()).toBe(0);
    expect(waiter.output()).toContain('migrations up to date');
    expect(waiter.output()).not.toContain('applied migration');
  });

  it('times out with a clear message and a non-zero exit when no Job applies them', async () => {
    const schema = uniqueName('migwait');
    schemas.push(schema);
    const waiter = migrateProcess(schema, ['--wait', '--timeout=1s']);
    expect(await exitCode(waiter)).toBe(1);
    expect(waiter.output()).toContain(
      `timed out after 1000 ms waiting for the migrations of schema ${schema} (missing 20261124070000_init`,
    );
    expect(waiter.output()).toContain("run this release's migrate Job");
  });

  it('refuses an unknown argument', async () => {
    const waiter = migrateProcess(uniqueName('migwait'), ['--wiat']);
    expect(await exitCode(waiter)).toBe(1);
    expect(waiter.output()).toContain('unknown argument "--wiat"');
  });
});
