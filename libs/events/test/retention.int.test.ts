import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../src/envelope.js';
import { pgInbox, processOnce } from '../src/inbox.js';
import { insertOutbox } from '../src/outbox-schema.js';
import { prunePublishedOutbox, pruneProcessedEvents } from '../src/retention.js';
import { createTestDatabase, type TestDatabase } from './support.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

const anEvent = () =>
  newEvent({ type: 'tretention.x', source: 'events-test', payload: new Uint8Array() });

describe('retention', () => {
  it('deletes published outbox rows older than the cut-off, never unpublished ones', async () => {
    const [oldPublished, recentPublished, oldUnpublished] = [anEvent(), anEvent(), anEvent()];
    await insertOutbox(db.pool, [oldPublished, recentPublished, oldUnpublished]);
    await db.pool.query(
      `UPDATE outbox SET published_time = now() - interval '2 days' WHERE id = $1`,
      [oldPublished.id],
    );
    await db.pool.query(`UPDATE outbox SET published_time = now() WHERE id = $1`, [
      recentPublished.id,
    ]);
    await db.pool.query(`UPDATE outbox SET create_time = now() - interval '3 days' WHERE id = $1`, [
      oldUnpublished.id,
    ]);

    expect(await prunePublishedOutbox(db.pool, new Date(Date.now() - 24 * 3600_000))).toBe(1);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM outbox ORDER BY id');
    expect(rows.map((r) => r.id).sort()).toEqual([recentPublished.id, oldUnpublished.id].sort());
  });

  it('forgets processed event ids older than the cut-off', async () => {
    const inbox = pgInbox(db.pool);
    const apply = async () => {};
    await processOnce({ ...inbox, consumer: 'c', eventId: 'old', apply });
    await processOnce({ ...inbox, consumer: 'c', eventId: 'new', apply });
    await db.pool.query(
      `UPDATE processed_events SET processed_time = now() - interval '9 days' WHERE event_id = 'old'`,
    );

    expect(await pruneProcessedEvents(db.pool, new Date(Date.now() - 8 * 24 * 3600_000))).toBe(1);
    expect(await processOnce({ ...inbox, consumer: 'c', eventId: 'new', apply })).toBe(false);
    expect(await processOnce({ ...inbox, consumer: 'c', eventId: 'old', apply })).toBe(true);
  });
});
