import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromNatsMessage } from '../src/envelope.js';
import { insertOutbox } from '../src/outbox-schema.js';
import {
  outboxBacklog,
  OutboxRelay,
  type OutboxRelayOptions,
  type PublishedRow,
} from '../src/outbox-relay.js';
import {
  anEvent,
  connectTestNats,
  createTestDatabase,
  createTestStream,
  eventually,
  readStream,
  RecordingLogger,
  someEvents,
  streamMessageCount,
  type TestDatabase,
  type TestNats,
  type TestStream,
} from './support.js';

let db: TestDatabase;
let nats: TestNats;
let stream: TestStream;
const running: OutboxRelay[] = [];

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), connectTestNats()]);
});

afterAll(async () => {
  await nats?.nc.close();
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query('TRUNCATE outbox');
  stream = await createTestStream(nats.jsm);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((relay) => relay.stop()));
  await nats.jsm.streams.delete(stream.name);
});

function aRelay(overrides: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  return new OutboxRelay({
    pool: db.pool,
    js: nats.js,
    logger: new RecordingLogger(),
    ...overrides,
  });
}

function started(relay: OutboxRelay): OutboxRelay {
  relay.start();
  running.push(relay);
  return relay;
}

async function unpublishedCount(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE published_time IS NULL',
  );
  return rows[0]!.n;
}

describe('OutboxRelay', () => {
  it('publishes outbox rows with the event id as Nats-Msg-Id and CloudEvents headers', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const events = [
      anEvent(stream, { traceparent, subjectId: 'user-7' }),
      anEvent(stream),
      anEvent(stream),
    ];
    await insertOutbox(db.pool, events);

    const relay = aRelay();
    expect(await relay.relayOnce()).toBe(3);
    expect(await relay.relayOnce()).toBe(0);

    const messages = await readStream(nats.jsm, stream.name);
    expect(messages.map((m) => m.headers?.get('Nats-Msg-Id'))).toEqual(events.map((e) => e.id));
    expect(messages.map((m) => fromNatsMessage(m))).toEqual(events);
    expect(messages[0]!.headers?.get('content-type')).toBe('application/protobuf');
    expect(messages[0]!.subject).toBe(stream.subject('thing_happened'));
    expect(await unpublishedCount()).toBe(0);
    expect(relay.published).toBe(3);
  });

  it('publishes 1,000 events once each with two relays running side by side', async () => {
    const events = someEvents(stream, 1000);
    const relays = [started(aRelay({ batchSize: 50 })), started(aRelay({ batchSize: 50 }))];
    for (let i = 0; i < events.length; i += 100)
      await insertOutbox(db.pool, events.slice(i, i + 100));

    await eventually(
      () => streamMessageCount(nats.jsm, stream.name),
      (n) => n === 1000,
    );
    await eventually(unpublishedCount, (n) => n === 0);
    // Stopped, each has counted its last batch (its marks are seen committed before it adds them).
    await Promise.all(relays.map((relay) => relay.stop()));
    // Each row claimed by exactly one relay: no relay published what the other had.
    expect(relays[0]!.published + relays[1]!.published).toBe(1000);
    const ids = (await readStream(nats.jsm, stream.name)).map((m) => m.headers?.get('ce-id'));
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
  });

  it('wakes on insert instead of waiting for the poll, also after losing its LISTEN connection', async () => {
    started(aRelay({ idlePollMs: 60_000 }));
    await eventually(listenerPid, (pid) => pid !== undefined);

    await insertOutbox(db.pool, [anEvent(stream)]);
    await eventually(
      () => streamMessageCount(nats.jsm, stream.name),
      (n) => n === 1,
      { timeoutMs: 2_000 },
    );

    const pid = await listenerPid();
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(listenerPid, (next) => next !== undefined && next !== pid, {
      timeoutMs: 5_000,
    });
    await insertOutbox(db.pool, [anEvent(stream)]);
    await eventually(
      () => streamMessageCount(nats.jsm, stream.name),
      (n) => n === 2,
      { timeoutMs: 2_000 },
    );
  });

  it('keeps what it published when other events of the batch fail, and counts their attempts', async () => {
    const good = anEvent(stream);
    const orphan = anEvent(stream, { type: `nostream${Date.now()}.thing_happened` });
    await insertOutbox(db.pool, [good, orphan]);
    const logger = new RecordingLogger();
    const relay = aRelay({ logger, publishTimeoutMs: 1_000 });

    expect(await relay.relayOnce()).toBe(1);
    expect(await relay.relayOnce()).toBe(0);

    const { rows } = await db.pool.query<{ id: string; published: boolean; attempts: number }>(
      'SELECT id, published_time IS NOT NULL AS published, attempts FROM outbox ORDER BY create_time, id',
    );
    expect(rows).toEqual([
      { id: good.id, published: true, attempts: 0 },
      { id: orphan.id, published: false, attempts: 2 },
    ]);
    expect(relay.failed).toBe(2);
    expect(logger.messages('error')).toContain('outbox events not published; will retry');
  });

  it('reports each publish attempt to its observe hook, with the context the row was written in', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const good = anEvent(stream, { traceparent });
    const orphan = anEvent(stream, { type: `nostream${Date.now()}.thing_happened` });
    await insertOutbox(db.pool, [good, orphan]);
    const seen: PublishedRow[] = [];
    const relay = aRelay({ publishTimeoutMs: 1_000, observe: (row) => seen.push(row) });

    expect(await relay.relayOnce()).toBe(1);
    const byId = new Map(seen.map((row) => [row.eventId, row]));
    expect(byId.get(good.id)).toMatchObject({
      subject: stream.subject('thing_happened'),
      traceparent,
    });
    expect(byId.get(good.id)!.error).toBeUndefined();
    expect(byId.get(good.id)!.endMs).toBeGreaterThanOrEqual(byId.get(good.id)!.startMs);
    expect(byId.get(orphan.id)!.error).toBeTruthy();
    expect(byId.get(orphan.id)!.traceparent).toBeUndefined();
  });

  it('tells the backlog: rows waiting and the age of the oldest', async () => {
    expect(await outboxBacklog(db.pool)).toEqual({ rows: 0, oldestSeconds: 0 });
    await insertOutbox(db.pool, [anEvent(stream), anEvent(stream)]);
    await db.pool.query("UPDATE outbox SET create_time = now() - interval '90 seconds'");
    const backlog = await outboxBacklog(db.pool);
    expect(backlog.rows).toBe(2);
    expect(backlog.oldestSeconds).toBeGreaterThan(89);
    expect(backlog.oldestSeconds).toBeLessThan(120);
    await aRelay().relayOnce();
    expect(await outboxBacklog(db.pool)).toEqual({ rows: 0, oldestSeconds: 0 });
  });

  it('stops promptly when idle', async () => {
    const relay = aRelay({ idlePollMs: 60_000 });
    relay.start();
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await relay.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

async function listenerPid(): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE application_name = $1 AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    [db.schema],
  );
  return rows[0]?.pid;
}
