import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, waitForMigrations } from './migrate.js';

let db: TestSchema;
let dir: string;

const writeMigration = (name: string, sql: string) => {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'migration.sql'), sql);
};

beforeAll(async () => {
  db = await testSchema('migwait');
  dir = mkdtempSync(join(tmpdir(), 'warden-migrations-'));
  writeMigration('20260101000000_first', 'CREATE TABLE first_table (id int PRIMARY KEY);');
  writeMigration('20260102000000_second', 'CREATE TABLE second_table (id int PRIMARY KEY);');
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

const tables = async (): Promise<string[]> =>
  (
    await db.pool.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [db.schema],
    )
  ).rows.map((r) => r.table_name);

describe('waitForMigrations', () => {
  it('gives up after its timeout naming the missing migrations, and applies none itself', async () => {
    await expect(
      waitForMigrations(db.pool, {
        schema: db.schema,
        migrationsDir: dir,
        timeoutMs: 200,
        intervalMs: 50,
      }),
    ).rejects.toThrow(
      new RegExp(
        `waiting for the migrations of schema ${db.schema} \\(missing 20260101000000_first, ` +
          `20260102000000_second\\); run this release's migrate Job`,
      ),
    );
    expect(await tables()).toEqual([]);
  });

  it('waits while migrations are missing and returns once another process has applied them all', async () => {
    const lines: string[] = [];
    let sawMissing!: () => void;
    const looked = new Promise<void>((resolve) => (sawMissing = resolve));
    const waiting = waitForMigrations(db.pool, {
      schema: db.schema,
      migrationsDir: dir,
      timeoutMs: 30_000,
      intervalMs: 50,
      log: (line) => {
        lines.push(line);
        if (line.includes('missing')) sawMissing();
      },
    });
    let done = false;
    void waiting.then(() => (done = true));
    await looked;
    expect(done).toBe(false);
    // The release's migrate Job, on a connection of its own.
    expect(await migrate(db.pool, { schema: db.schema, migrationsDir: dir })).toEqual([
      '20260101000000_first',
      '20260102000000_second',
    ]);
    await waiting;
    expect(lines[0]).toBe(
      `waiting for migrations of schema ${db.schema}: missing 20260101000000_first, 20260102000000_second`,
    );
    // Applied: the next wait returns at its first look.
    await waitForMigrations(db.pool, { schema: db.schema, migrationsDir: dir, timeoutMs: 1 });
  });

  it('waits for a migration the build has and the database not yet', async () => {
    writeMigration('20260103000000_third', 'CREATE TABLE third_table (id int PRIMARY KEY);');
    await expect(
      waitForMigrations(db.pool, { schema: db.schema, migrationsDir: dir, timeoutMs: 100 }),
    ).rejects.toThrow(/\(missing 20260103000000_third\)/);
    await migrate(db.pool, { schema: db.schema, migrationsDir: dir });
    await waitForMigrations(db.pool, { schema: db.schema, migrationsDir: dir, timeoutMs: 1 });
  });

  it('fails at once when an applied migration differs from this build', async () => {
    writeMigration('20260101000000_first', 'CREATE TABLE first_table (id bigint PRIMARY KEY);');
    await expect(
      waitForMigrations(db.pool, { schema: db.schema, migrationsDir: dir, timeoutMs: 60_000 }),
    ).rejects.toThrow(
      'migration 20260101000000_first is applied with another checksum than this build',
    );
  });
});
