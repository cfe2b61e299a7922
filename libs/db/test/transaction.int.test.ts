import { randomUUID } from 'node:crypto';
import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient, withTransaction, withTransactionFrom } from '../src/transaction.js';

let db: TestSchema;
beforeAll(async () => {
  db = await testSchema('tx');
  await db.pool.query(
    'CREATE TABLE item (id uuid PRIMARY KEY, attempts integer NOT NULL DEFAULT 0)',
  );
});
afterAll(async () => {
  await db?.drop();
});

type Client = { query(text: string, values?: unknown[]): Promise<unknown> };
const insertItem = (client: Client, id: string) =>
  client.query('INSERT INTO item (id) VALUES ($1)', [id]);
const count = async (id: string) =>
  (await db.pool.query('SELECT 1 FROM item WHERE id = $1', [id])).rowCount;

describe('pg transactions', () => {
  it('commits what fn wrote, and rolls everything back when it throws', async () => {
    const kept = randomUUID();
    const lost = randomUUID();
    await withTransaction(db.pool, (client) => insertItem(client, kept));
    await expect(
      withTransaction(db.pool, async (client) => {
        await insertItem(client, lost);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count(kept)).toBe(1);
    expect(await count(lost)).toBe(0);
  });

  it("withTransactionFrom: BEGIN with the first statements, fn gets the last one's rows, same rollback", async () => {
    const id = randomUUID();
    await insertItem(db.pool, id);
    const seen = await withTransactionFrom<{ id: string }, string[]>(
      db.pool,
      `SELECT 1; SELECT id FROM item WHERE id = '${id}' FOR UPDATE`,
      async (client, rows) => {
        await client.query('UPDATE item SET attempts = 7 WHERE id = $1', [id]);
        return rows.map((row) => row.id);
      },
    );
    expect(seen).toEqual([id]);

    await expect(
      withTransactionFrom(db.pool, `SELECT id FROM item WHERE id = '${id}'`, async (client) => {
        await client.query('UPDATE item SET attempts = 8 WHERE id = $1', [id]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await db.pool.query<{ attempts: number }>(
      'SELECT attempts FROM item WHERE id = $1',
      [id],
    );
    expect(rows[0]!.attempts).toBe(7);
  });

  it('withTransactionFrom: a failing first statement leaves the connection usable', async () => {
    await expect(
      withTransactionFrom(db.pool, 'SELECT * FROM no_such_table', async () => 1),
    ).rejects.toThrow(/no_such_table/);
    for (let i = 0; i < 10; i++)
      // more than the pool holds: every connection came back clean
      expect(
        await withTransactionFrom(db.pool, 'SELECT 1 AS one', async (_c, rows) => rows),
      ).toEqual([{ one: 1 }]);
  });

  it('withClient: fn commits in its own batch; a throw after BEGIN rolls back and the connection comes back clean', async () => {
    const kept = randomUUID();
    const lost = randomUUID();
    await withClient(db.pool, (client) =>
      client.query(`BEGIN; INSERT INTO item (id) VALUES ('${kept}'); COMMIT`),
    );
    await expect(
      withClient(db.pool, async (client) => {
        await client.query(`BEGIN; INSERT INTO item (id) VALUES ('${lost}')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count(kept)).toBe(1);
    expect(await count(lost)).toBe(0);
    for (let i = 0; i < 10; i++)
      expect(
        await withClient(db.pool, async (client) => (await client.query('SELECT 1')).rowCount),
      ).toBe(1);
  });
});
