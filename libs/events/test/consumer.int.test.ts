import { headers } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DurableConsumer,
  type DurableConsumerOptions,
  type HandledEvent,
} from '../src/consumer.js';
import { toNatsHeaders, type EventEnvelope } from '../src/envelope.js';
import {
  anEvent,
  connectTestNats,
  createTestStream,
  eventually,
  RecordingLogger,
  recordingMetrics,
  TEST_SOURCE,
  type TestNats,
  type TestStream,
} from './support.js';

let nats: TestNats;
let stream: TestStream;
const running: DurableConsumer[] = [];

beforeAll(async () => {
  nats = await connectTestNats();
});

afterAll(async () => {
  await nats?.nc.close();
});

beforeEach(async () => {
  stream = await createTestStream(nats.jsm);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await nats.jsm.streams.delete(stream.name);
});

async function publish(event: EventEnvelope): Promise<void> {
  await nats.js.publish(event.type, event.payload, {
    msgID: event.id,
    headers: toNatsHeaders(event),
  });
}

async function startConsumer(
  overrides: Partial<DurableConsumerOptions> & Pick<DurableConsumerOptions, 'handle'>,
) {
  const consumer = new DurableConsumer({
    js: nats.js,
    jsm: nats.jsm,
    stream: stream.name,
    durable: 'events_test',
    filterSubject: `${stream.prefix}.>`,
    source: TEST_SOURCE,
    logger: new RecordingLogger(),
    ackWaitMs: 2_000,
    ...overrides,
  });
  await consumer.start();
  running.push(consumer);
  return consumer;
}

function consumerInfo(durable = 'events_test') {
  return nats.jsm.consumers.info(stream.name, durable);
}

describe('DurableConsumer', () => {
  it('terminates undecodable messages and carries on', async () => {
    const logger = new RecordingLogger();
    const handled: EventEnvelope[] = [];
    const { metrics, rejected } = recordingMetrics();
    await startConsumer({ logger, metrics, handle: async (e) => void handled.push(e) });

    const good = anEvent(stream);
    const noTypeHeaders = toNatsHeaders(anEvent(stream));
    const noType = headers();
    for (const [key, values] of noTypeHeaders) if (key !== 'ce-type') noType.set(key, values[0]!);
    await nats.js.publish(stream.subject('garbage'), new TextEncoder().encode('not an event'));
    await nats.js.publish(stream.subject('untyped'), new Uint8Array(), { headers: noType });
    await publish(good);

    await eventually(consumerInfo, (i) => i.num_ack_pending === 0 && i.delivered.stream_seq === 3);
    expect(handled.map((e) => e.id)).toEqual([good.id]);
    expect(logger.messages('error')).toEqual([
      'undecodable event; terminating it',
      'undecodable event; terminating it',
    ]);
    const undecodable = { subject: `${stream.prefix}.>`, source: 'unknown', reason: 'undecodable' };
    expect(rejected).toEqual([undecodable, undecodable]);
    // Past the ack wait: a terminated message must not come back.
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await consumerInfo()).num_redelivered).toBe(0);
  });

  it('drops an event whose source does not own the subject: never handled, logged once, counted, terminated', async () => {
    const logger = new RecordingLogger();
    const handled: EventEnvelope[] = [];
    const { metrics, rejected: counted } = recordingMetrics();
    await startConsumer({ logger, handle: async (e) => void handled.push(e), metrics });

    const forged = anEvent(stream, { source: 'session-service' });
    const good = anEvent(stream);
    await publish(forged);
    await publish(good);

    // Nothing left pending: the forged event was settled for good, not left to redeliver.
    await eventually(consumerInfo, (i) => i.num_ack_pending === 0 && i.delivered.stream_seq === 2);
    expect(handled.map((e) => e.id)).toEqual([good.id]);
    expect(counted).toEqual([
      { subject: `${stream.prefix}.>`, source: 'session-service', reason: 'source_not_owner' },
    ]);
    expect(logger.messages('warn')).toEqual(['event dropped: its source does not own the subject']);
    expect(logger.entries.find((e) => e.level === 'warn')!.obj).toMatchObject({
      eventId: forged.id,
      source: 'session-service',
      expectedSource: TEST_SOURCE,
    });
    expect((await consumerInfo()).num_redelivered).toBe(0);
  });

  it('refuses to start without knowing which source owns a subject outside warden contexts', () => {
    expect(
      () =>
        new DurableConsumer({
          js: nats.js,
          jsm: nats.jsm,
          stream: stream.name,
          durable: 'events_test',
          filterSubject: `${stream.prefix}.>`,
          logger: new RecordingLogger(),
          handle: async () => {},
        }),
    ).toThrow(/no service owns/);
  });

  it('redelivers an event whose handling failed, after a delay', async () => {
    const logger = new RecordingLogger();
    const calls: number[] = [];
    const observed: HandledEvent[] = [];
    const { metrics, lag, redelivered } = recordingMetrics();
    await startConsumer({
      logger,
      metrics,
      handle: async () => {
        calls.push(Date.now());
        if (calls.length === 1) throw new Error('database hiccup');
      },
      observe: (handled) => observed.push(handled),
    });
    const event = anEvent(stream);
    await publish(event);

    await eventually(
      async () => calls.length,
      (n) => n === 2,
    );
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(400);
    expect(logger.messages('warn')).toContain('event handling failed; will retry');
    await eventually(consumerInfo, (i) => i.num_ack_pending === 0 && i.num_pending === 0);
    // Both deliveries were reported (a consumer span each): the failure with its error.
    expect(
      observed.map((h) => [h.event.id, h.durable, (h.error as Error | undefined)?.message]),
    ).toEqual([
      [event.id, 'events_test', 'database hiccup'],
      [event.id, 'events_test', undefined],
    ]);
    expect(observed[0]!.endMs).toBeGreaterThanOrEqual(observed[0]!.startMs);
    // The second delivery is counted as a redelivery; nothing was left behind either time.
    expect(redelivered).toEqual(['events_test']);
    expect(lag).toEqual([
      ['events_test', 0],
      ['events_test', 0],
    ]);
  });

  it('reports its lag: the messages still to deliver as of the last one delivered', async () => {
    const { metrics, lag } = recordingMetrics();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const events = [anEvent(stream), anEvent(stream), anEvent(stream)];
    for (const event of events) await publish(event);
    await startConsumer({ metrics, batch: 1, concurrency: 1, handle: () => held });

    await eventually(
      async () => lag.length,
      (n) => n >= 1,
    );
    expect(lag[0]).toEqual(['events_test', 2]);
    release();
    await eventually(
      async () => lag.map(([, value]) => value),
      (values) => values.at(-1) === 0,
    );
  });

  it('gives an event up after maxDeliver failed deliveries', async () => {
    const logger = new RecordingLogger();
    let calls = 0;
    await startConsumer({
      logger,
      maxDeliver: 2,
      handle: async () => {
        calls++;
        throw new Error('always fails');
      },
    });
    await publish(anEvent(stream));

    await eventually(
      async () => logger.messages('error'),
      (m) => m.includes('event handling failed for the last time; giving up'),
    );
    await new Promise((r) => setTimeout(r, 2_500));
    expect(calls).toBe(2);
  });

  it('shares the work between processes on the same durable', async () => {
    const seen: string[][] = [[], []];
    await startConsumer({ batch: 5, handle: async (e) => void seen[0]!.push(e.id) });
    await startConsumer({ batch: 5, handle: async (e) => void seen[1]!.push(e.id) });
    const events = Array.from({ length: 200 }, () => anEvent(stream));
    await Promise.all(events.map(publish));

    await eventually(
      async () => seen[0]!.length + seen[1]!.length,
      (n) => n >= 200,
    );
    expect(new Set([...seen[0]!, ...seen[1]!])).toEqual(new Set(events.map((e) => e.id)));
    expect(seen[0]!.length + seen[1]!.length).toBe(200);
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);
  });

  it('finishes the event in hand when stopped', async () => {
    let release!: () => void;
    const inHandler = new Promise<void>((entered) => {
      void startConsumer({
        handle: () => {
          entered();
          return new Promise<void>((r) => (release = r));
        },
      });
    });
    await publish(anEvent(stream));
    await inHandler;

    const consumer = running[0]!;
    let stopped = false;
    const stopping = consumer.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(stopped).toBe(false);
    release();
    await stopping;
    await eventually(consumerInfo, (i) => i.num_ack_pending === 0 && i.num_pending === 0);
  });

  it('refuses to reuse a durable that filters other subjects', async () => {
    await startConsumer({ handle: async () => {} });
    const other = new DurableConsumer({
      js: nats.js,
      jsm: nats.jsm,
      stream: stream.name,
      durable: 'events_test',
      filterSubject: stream.subject('something_else'),
      source: TEST_SOURCE,
      logger: new RecordingLogger(),
      handle: async () => {},
    });
    await expect(other.start()).rejects.toThrow(/filters .* not /);
  });
});
