import { testSchema, type TestSchema } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgErrorCode } from './pg-errors.js';
import { queryThenCommit, withTransaction, withTransactionFrom } from './transaction.js';

let db: TestSchema;

beforeAll(async () => {
  db = await testSchema('txlost', 2);
  await db.pool.query(`
    CREATE TABLE parents (id int PRIMARY KEY);
    CREATE TABLE items (
      id int PRIMARY KEY,
      parent int REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED
    )`);
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

describe('queryThenCommit', () => {
  const ids = async () =>
    (await db.pool.query<{ id: number }>('SELECT id FROM items ORDER BY id')).rows.map((r) => r.id);
  /** ReadyForQuery messages on the client's connection while `fn` runs: one per round trip. */
  const roundTrips = async (client: pg.PoolClient, fn: () => Promise<unknown>) => {
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    let n = 0;
    const count = () => n++;
    connection.on('readyForQuery', count);
    try {
      await fn();
    } finally {
      connection.off('readyForQuery', count);
    }
    return n;
  };

  it('commits the transaction with its last statement, in one round trip, answering its rows', async () => {
    await db.pool.query('DELETE FROM items; DELETE FROM parents; INSERT INTO parents VALUES (1)');
    let trips = 0;
    const rows = await withTransactionFrom(db.pool, 'SELECT 1', async (client) => {
      await client.query('INSERT INTO items VALUES (1, 1)');
      let result: pg.QueryResult<{ id: number }> | undefined;
      trips = await roundTrips(client, async () => {
        result = await queryThenCommit<{ id: number }>(client, {
          name: 'test-insert-item',
          text: 'INSERT INTO items VALUES ($1, $2) RETURNING id',
          values: [2, 1],
        });
      });
      // Committed already: another connection sees both rows before withTransaction returns.
      expect(await ids()).toEqual([1, 2]);
      return result!.rows;
    });
    expect(trips).toBe(1);
    expect(rows).toEqual([{ id: 2 }]);
    // The named statement, prepared on the first use, serves the next transaction on the connection.
    for (const id of [3, 4])
      await withTransaction(db.pool, (client) =>
        queryThenCommit(client, {
          name: 'test-insert-item',
          text: 'INSERT INTO items VALUES ($1, $2) RETURNING id',
          values: [id, 1],
        }),
      );
    // A statement without values still goes the extended way, with its COMMIT.
    await withTransaction(db.pool, (client) =>
      queryThenCommit(client, { text: 'INSERT INTO items VALUES (5, 1)' }),
    );
    expect(await ids()).toEqual([1, 2, 3, 4, 5]);
  });

  it("rejects with the statement's error and commits nothing; the connection serves on", async () => {
    await db.pool.query('DELETE FROM items; DELETE FROM parents; INSERT INTO parents VALUES (1)');
    const attempt = withTransaction(db.pool, async (client) => {
      await client.query('INSERT INTO items VALUES (1, 1)');
      // The primary key is taken: the statement fails, and the COMMIT sent with it never runs.
      await queryThenCommit(client, { text: 'INSERT INTO items VALUES ($1, $2)', values: [1, 1] });
    });
    await expect(attempt).rejects.toSatisfy((err) => pgErrorCode(err) === '23505');
    expect(await ids()).toEqual([]);
    // Both pooled connections at once (the pool holds 2), so the one that failed is among them:
    // each answers, none is left in the aborted transaction (that would be 25P02).
    const clients = await Promise.all([db.pool.connect(), db.pool.connect()]);
    try {
      for (const client of clients)
        expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      for (const client of clients) client.release();
    }
  });

  it("rejects with the COMMIT's error when the commit fails (a deferred constraint), committing nothing", async () => {
    await db.pool.query('DELETE FROM items; DELETE FROM parents');
    const attempt = withTransaction(db.pool, async (client) => {
      await client.query('INSERT INTO items VALUES (1, NULL)');
      // No parent 7: the foreign key is checked only at COMMIT.
      await queryThenCommit(client, { text: 'INSERT INTO items VALUES ($1, $2)', values: [2, 7] });
    });
    await expect(attempt).rejects.toSatisfy((err) => pgErrorCode(err) === '23503');
    expect(await ids()).toEqual([]);
    await withTransaction(db.pool, (client) =>
      queryThenCommit(client, { text: 'INSERT INTO items VALUES ($1, NULL)', values: [3] }),
    );
    expect(await ids()).toEqual([3]);
  });
});
