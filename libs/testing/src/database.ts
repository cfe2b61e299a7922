import { createPool } from '@warden/db';
import pg from 'pg';
import { uniqueName } from './names.js';

export const TEST_DATABASE_URL =
  process.env.WARDEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/warden_test';

let ensured: Promise<void> | undefined;

/**
 * Creates the test database if it is missing (once per process), so that a benchmark or a single
 * test file run outside the suite's global setup works on a fresh machine too.
 */
export function ensureTestDatabase(): Promise<void> {
  ensured ??= (async () => {
    const url = new URL(TEST_DATABASE_URL);
    const database = url.pathname.slice(1);
    url.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: url.toString() });
    try {
      await admin.connect();
    } catch (error) {
      throw new Error(
        `Postgres is not reachable at ${url.host}: start it (see README) — ${(error as Error).message}`,
      );
    }
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        database,
      ]);
      // Two processes may race to create it: the loser's "already exists" is fine.
      if (!rowCount)
        await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`).catch(() => {});
    } finally {
      await admin.end();
    }
  })();
  ensured.catch(() => (ensured = undefined));
  return ensured;
}

export interface TestSchema {
  url: string;
  schema: string;
  pool: pg.Pool;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** A Postgres schema of its own for one test file, so files run in parallel without sharing rows. */
export async function testSchema(prefix = 't', poolSize = 5): Promise<TestSchema> {
  await ensureTestDatabase();
  const schema = uniqueName(prefix.replace(/[^a-z0-9_]/g, '_'));
  const pool = createPool({
    url: TEST_DATABASE_URL,
    schema,
    poolSize,
    applicationName: `test:${schema}`,
  });
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return {
    url: TEST_DATABASE_URL,
    schema,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    },
  };
}
