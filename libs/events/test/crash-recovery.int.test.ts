import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DurableConsumer } from '../src/consumer.js';
import type { EventEnvelope } from '../src/envelope.js';
import { pgInbox, processOnce } from '../src/inbox.js';
import { insertOutbox } from '../src/outbox-schema.js';
import { OutboxRelay } from '../src/outbox-relay.js';
import {
  connectTestNats,
  createTestDatabase,
  createTestStream,
  DATABASE_URL,
  eventually,
  NATS_PASSWORD,
  NATS_URL,
  NATS_USER,
  RecordingLogger,
  someEvents,
  streamMessageCount,
  TEST_SOURCE,
  type TestDatabase,
  type TestNats,
  type TestStream,
} from './support.js';

const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/relay-until-killed.ts', import.meta.url));
const EVENTS = 1000;
const STALL_AFTER_ACKS = 400;

let db: TestDatabase;
let nats: TestNats;
let stream: TestStream;
let child: ChildProcess | undefined;

beforeAll(async () => {
  [db, nats] = await Promise.all([createTestDatabase(), connectTestNats()]);
  stream = await createTestStream(nats.jsm);
  await db.pool.query('CREATE TABLE applied (event_id text PRIMARY KEY, times integer NOT NULL)');
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) killGroup(child);
  await nats?.jsm.streams.delete(stream.name).catch(() => {});
  await nats?.nc.close();
  await db?.drop();
});

function startChildRelay(): ChildProcess {
  // Its own process group: tsx runs the script in a child process, and the kill must reach it.
  return spawn(TSX, [FIXTURE], {
    env: {
      ...process.env,
      DATABASE_URL,
      NATS_URL,
      NATS_USER,
      NATS_PASSWORD,
      SCHEMA: db.schema,
      STALL_AFTER_ACKS: String(STALL_AFTER_ACKS),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
}

function killGroup(proc: ChildProcess): void {
  process.kill(-proc.pid!, 'SIGKILL');
}

async function markedCount(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM outbox WHERE published_time IS NOT NULL',
  );
  return rows[0]!.n;
}

/** Applies each event by bumping its row; fails some deliveries on purpose, before and after committing. */
function flakyCounter(events: EventEnvelope[]) {
  const position = new Map(events.map((e, i) => [e.id, i]));
  const failedOnce = new Set<string>();
  const inbox = pgInbox(db.pool);
  const stats = { alreadyApplied: 0 };

  const failFirstDelivery = (event: EventEnvelope, kind: number): void => {
    if (position.get(event.id)! % 10 !== kind || failedOnce.has(event.id)) return;
    failedOnce.add(event.id);
    throw new Error(`simulated failure ${kind} of ${event.id}`);
  };

  const handle = async (event: EventEnvelope): Promise<void> => {
    const applied = await processOnce({
      ...inbox,
      consumer: 'crash-test',
      eventId: event.id,
      apply: async (tx) => {
        await tx.query(
          `INSERT INTO applied (event_id, times) VALUES ($1, 1)
           ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1`,
          [event.id],
        );
        failFirstDelivery(event, 7); // rolled back with its processed mark
      },
    });
    if (!applied) stats.alreadyApplied++;
    failFirstDelivery(event, 3); // effect committed, ack never sent: a redelivery must not apply it again
  };
  return { handle, stats };
}

describe('after a relay is killed mid-batch', () => {
  it('every event reaches the stream once and is applied once', { timeout: 30_000 }, async () => {
    const events = someEvents(stream, EVENTS);
    await insertOutbox(db.pool, events);

    const { handle, stats } = flakyCounter(events);
    const consumers = [0, 1].map(
      () =>
        new DurableConsumer({
          js: nats.js,
          jsm: nats.jsm,
          stream: stream.name,
          durable: 'crash_test',
          filterSubject: `${stream.prefix}.>`,
          source: TEST_SOURCE,
          handle,
          logger: new RecordingLogger(),
          batch: 20,
        }),
    );
    await Promise.all(consumers.map((c) => c.start()));

    child = startChildRelay();
    const inStream = await eventually(
      () => streamMessageCount(nats.jsm, stream.name),
      (n) => n >= STALL_AFTER_ACKS,
      { timeoutMs: 15_000 },
    );
    expect(inStream).toBeLessThan(EVENTS);
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    killGroup(child);
    await exited;
    // A statement the relay sent just before it died (its marks with COMMIT) still runs on its
    // backend, which ends only when it next reads the closed socket: count the marks after that.
    await eventually(
      async () =>
        (
          await db.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE application_name = 'crash-test-relay'`,
          )
        ).rows[0]!.n,
      (n) => n === 0,
      { timeoutMs: 10_000 },
    );
    const publishedBeforeKill = await streamMessageCount(nats.jsm, stream.name);
    const markedBeforeKill = await markedCount();
    // The killed relay left events in the stream that it never marked: they get published again.
    expect(markedBeforeKill).toBeLessThan(publishedBeforeKill);

    const relay = new OutboxRelay({
      pool: db.pool,
      js: nats.js,
      logger: new RecordingLogger(),
      batchSize: 100,
    });
    relay.start();
    try {
      await eventually(markedCount, (n) => n === EVENTS, { timeoutMs: 10_000 });
    } finally {
      // Stopped, its last batch is counted: the marks are seen committed here before the relay
      // adds them up.
      await relay.stop();
    }
    expect(relay.published).toBe(EVENTS - markedBeforeKill);
    expect(await streamMessageCount(nats.jsm, stream.name)).toBe(EVENTS);

    // Done when every event was acked, including the redeliveries of the failed ones.
    await eventually(
      () => nats.jsm.consumers.info(stream.name, 'crash_test'),
      (i) => i.num_pending === 0 && i.num_ack_pending === 0 && i.ack_floor.stream_seq >= EVENTS,
      { timeoutMs: 15_000 },
    );
    await Promise.all(consumers.map((c) => c.stop()));

    const { rows } = await db.pool.query<{ events: number; total: number }>(
      'SELECT count(*)::int AS events, coalesce(sum(times), 0)::int AS total FROM applied',
    );
    expect(rows[0]).toEqual({ events: EVENTS, total: EVENTS });
    // Each event failed after committing came back and was recognised as already applied.
    expect(stats.alreadyApplied).toBeGreaterThanOrEqual(EVENTS / 10);
  });
});
