import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../src/envelope.js';
import { insertOutbox } from '../src/outbox-schema.js';
import { withTransaction, withTransactionFrom } from '../src/pg-transaction.js';
import { createTestDatabase, type TestDatabase } from './support.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const anEvent = () => newEvent({ type: 'ttx.x', source: 'events-test', payload: new Uint8Array() });
const count = async (id: string) =>
  (await db.pool.query('SELECT 1 FROM outbox WHERE id = $1', [id])).rowCount;

describe('pg transactions', () => {
  it('commits what fn wrote, and rolls everything back when it throws', async () => {
    const kept = anEvent();
    const lost = anEvent();
    await withTransaction(db.pool, (client) => insertOutbox(client, [kept]));
    await expect(
      withTransaction(db.pool, async (client) => {
        await insertOutbox(client, [lost]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count(kept.id)).toBe(1);
    expect(await count(lost.id)).toBe(0);
  });

  it("withTransactionFrom: BEGIN with the first statements, fn gets the last one's rows, same rollback", async () => {
    const event = anEvent();
    await insertOutbox(db.pool, [event]);
    const seen = await withTransactionFrom<{ id: string }, string[]>(
      db.pool,
      `SELECT 1; SELECT id FROM outbox WHERE id = '${event.id}' FOR UPDATE`,
      async (client, rows) => {
        await client.query('UPDATE outbox SET attempts = 7 WHERE id = $1', [event.id]);
        return rows.map((row) => row.id);
      },
    );
    expect(seen).toEqual([event.id]);

    await expect(
      withTransactionFrom(
        db.pool,
        `SELECT id FROM outbox WHERE id = '${event.id}'`,
        async (client) => {
          await client.query('UPDATE outbox SET attempts = 8 WHERE id = $1', [event.id]);
          throw new Error('boom');
        },
      ),
    ).rejects.toThrow('boom');
    const { rows } = await db.pool.query<{ attempts: number }>(
      'SELECT attempts FROM outbox WHERE id = $1',
      [event.id],
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
});
