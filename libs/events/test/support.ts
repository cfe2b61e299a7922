import { randomBytes } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { newEvent, type EventEnvelope } from '../src/envelope.js';
import type { EventMetrics } from '../src/event-source.js';
import type { Logger } from '../src/logger.js';
import { OUTBOX_DDL } from '../src/outbox-schema.js';
import { ensureStream, inboxPrefixOf } from '../src/streams.js';

// The same variables and defaults as @warden/testing (its global setup creates the database).
export const DATABASE_URL =
  process.env.WARDEN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/warden_test';
export const NATS_URL = process.env.WARDEN_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
/** The harness's `ops` user (test streams are ops's to create); none on an open nats-server. */
export const NATS_USER = process.env.WARDEN_TEST_NATS_PASSWORDS ? 'ops' : '';
export const NATS_PASSWORD = process.env.WARDEN_TEST_NATS_PASSWORDS
  ? (JSON.parse(process.env.WARDEN_TEST_NATS_PASSWORDS) as Record<string, string>).ops!
  : '';

/** Options for `connect()` as the harness's ops user. */
export function natsOptions(): NodeConnectionOptions {
  if (!NATS_USER) return { servers: NATS_URL };
  return {
    servers: NATS_URL,
    user: NATS_USER,
    pass: NATS_PASSWORD,
    inboxPrefix: inboxPrefixOf(NATS_USER),
  };
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}

export type TestDatabase = { schema: string; pool: pg.Pool; drop(): Promise<void> };

/** A fresh schema holding the outbox tables, and a pool whose search_path points at it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const schema = `events_test_${randomSuffix()}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();

  const pool = poolFor(schema);
  await pool.query(OUTBOX_DDL);
  return {
    schema,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

export function poolFor(schema: string): pg.Pool {
  return new pg.Pool({
    connectionString: DATABASE_URL,
    options: `-c search_path=${schema}`,
    application_name: schema,
    max: 8,
  });
}

export type TestNats = { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager };

export async function connectTestNats(): Promise<TestNats> {
  const nc = await connect(natsOptions());
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** The ce-source of test events; test streams are no warden context, so consumers are told it. */
export const TEST_SOURCE = 'events-test';

export type TestStream = { name: string; prefix: string; subject(event: string): string };

/** A stream of its own (`T_<random>` on `t<random>.>`) so test files never collide. */
export async function createTestStream(jsm: JetStreamManager): Promise<TestStream> {
  const suffix = randomSuffix();
  const prefix = `t${suffix}`;
  const name = `T_${suffix}`;
  await ensureStream(jsm, { name, subjects: [`${prefix}.>`] });
  return { name, prefix, subject: (event) => `${prefix}.${event}` };
}

export function anEvent(
  stream: TestStream,
  overrides: Partial<Parameters<typeof newEvent>[0]> = {},
): EventEnvelope {
  return newEvent({
    type: stream.subject('thing_happened'),
    source: TEST_SOURCE,
    payload: new Uint8Array(randomBytes(16)),
    ...overrides,
  });
}

export function someEvents(stream: TestStream, count: number): EventEnvelope[] {
  return Array.from({ length: count }, () => anEvent(stream));
}

export async function streamMessageCount(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

/** Every message currently in the stream, in order, read without a consumer. */
export async function readStream(jsm: JetStreamManager, stream: string): Promise<JsMsgLike[]> {
  const { state } = await jsm.streams.info(stream);
  const messages: JsMsgLike[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) messages.push({ subject: m.subject, data: m.data, headers: m.header, seq: m.seq });
  }
  return messages;
}

export type JsMsgLike = Pick<JsMsg, 'subject' | 'data' | 'headers' | 'seq'>;

export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export type LogEntry = { level: keyof Logger; obj: object | string; msg: string | undefined };

/** A logger that remembers what it was told, for assertions. */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(obj: object | string, msg?: string) {
    this.entries.push({ level: 'debug', obj, msg });
  }
  info(obj: object | string, msg?: string) {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: object | string, msg?: string) {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object | string, msg?: string) {
    this.entries.push({ level: 'error', obj, msg });
  }
  messages(level: keyof Logger): (string | undefined)[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.msg);
  }
}

/** EventMetrics that remember every count, for assertions. */
export function recordingMetrics() {
  const rejected: Array<Record<string, string>> = [];
  const lag: Array<[durable: string, value: number]> = [];
  const redelivered: string[] = [];
  const metrics: EventMetrics = {
    rejected: { inc: (labels) => void rejected.push(labels) },
    consumerLag: { set: ({ durable }, value) => void lag.push([durable, value]) },
    redeliveries: { inc: ({ durable }) => void redelivered.push(durable) },
  };
  return { metrics, rejected, lag, redelivered };
}
