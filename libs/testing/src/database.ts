import { createPool } from '@warden/db';
import type pg from 'pg';
import { uniqueName } from './names.js';

export const TEST_DATABASE_URL =
  process.env.WARDEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/warden_test';
export const TEST_NATS_URL = process.env.WARDEN_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestSchema {
  url: string;
  schema: string;
  pool: pg.Pool;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** A Postgres schema of its own for one test file, so files run in parallel without sharing rows. */
export async function testSchema(prefix = 't', poolSize = 5): Promise<TestSchema> {
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
