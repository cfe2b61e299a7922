import { testSchema, type TestSchema } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from './transaction.js';

let db: TestSchema;

beforeAll(async () => {
  db = await testSchema('txlost', 2);
});

afterAll(() => db?.drop());

describe('withTransaction', () => {
  // Found by tests/faults: a Postgres restart ended a worker through an 'error' event nobody heard.
  it('survives its connection dying between two statements: rejects, and the pool serves on', async () => {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const attempt = withTransaction(db.pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const ended = new Promise((resolve) => client.once('end', resolve));
        // The server ends this backend while the transaction waits on something else.
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await ended;
        await client.query('SELECT 1');
      });
      await expect(attempt).rejects.toThrow();
      expect((await db.pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
    }
  });
});
