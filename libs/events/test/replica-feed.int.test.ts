import { headers } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toNatsHeaders, type EventEnvelope } from '../src/envelope.js';
import { followReplicaEvents, type GapReason, type ReplicaFeed } from '../src/replica-feed.js';
import {
  anEvent,
  connectTestNats,
  eventually,
  randomSuffix,
  RecordingLogger,
  recordingMetrics,
  TEST_SOURCE,
  type TestNats,
  type TestStream,
} from './support.js';

let nats: TestNats;
/** Core NATS needs no stream: this only names the subjects, like a test stream would. */
let subjects: TestStream;
const feeds: ReplicaFeed[] = [];

beforeAll(async () => {
  nats = await connectTestNats();
});

afterAll(async () => {
  await nats?.nc.close();
});

beforeEach(() => {
  const prefix = `r${randomSuffix()}`;
  subjects = { name: prefix, prefix, subject: (event) => `${prefix}.${event}` };
});

afterEach(async () => {
  await Promise.all(feeds.splice(0).map((f) => f.stop()));
});

function publish(event: EventEnvelope): void {
  nats.nc.publish(event.type, event.payload, { headers: toNatsHeaders(event) });
}

type Recorded = { events: string[]; gaps: GapReason[]; connected: boolean[] };

function follow(
  options: { logger?: RecordingLogger; metrics?: ReturnType<typeof recordingMetrics> } = {},
  onEvent: (event: EventEnvelope, into: Recorded) => void = (e, into) =>
    void into.events.push(e.id),
): Recorded {
  const recorded: Recorded = { events: [], gaps: [], connected: [] };
  feeds.push(
    followReplicaEvents(
      nats.nc,
      [{ subject: `${subjects.prefix}.>`, source: TEST_SOURCE }],
      {
        onEvent: (event) => onEvent(event, recorded),
        onGap: (why) => void recorded.gaps.push(why),
        onConnected: (connected) => void recorded.connected.push(connected),
      },
      {
        logger: options.logger ?? new RecordingLogger(),
        ...(options.metrics ? { metrics: options.metrics.metrics } : {}),
      },
    ),
  );
  return recorded;
}

/** A round trip to the server: everything published before it has been delivered to us. */
const settled = () => nats.nc.flush();

describe('followReplicaEvents', () => {
  it('gives every follower every event published after it subscribed', async () => {
    publish(anEvent(subjects));
    await settled();
    const followers = [follow(), follow()];
    await settled();

    const later = [
      anEvent(subjects),
      anEvent(subjects, { type: subjects.subject(`other_${randomSuffix()}`) }),
    ];
    for (const event of later) publish(event);

    await eventually(
      async () => followers.map((f) => f.events.length),
      (lengths) => lengths.every((n) => n === 2),
    );
    expect(followers.map((f) => f.events)).toEqual([
      later.map((e) => e.id),
      later.map((e) => e.id),
    ]);
  });

  it('drops, logs and counts an event whose source does not own the subject', async () => {
    const logger = new RecordingLogger();
    const metrics = recordingMetrics();
    const follower = follow({ logger, metrics });
    await settled();
    const forged = anEvent(subjects, { source: 'authz-service' });
    const good = anEvent(subjects);
    publish(forged);
    publish(good);

    // Delivery is in order: once the good one is in, the forged one was judged.
    await eventually(
      async () => follower.events.length,
      (n) => n === 1,
    );
    expect(follower.events).toEqual([good.id]);
    expect(metrics.rejected).toEqual([
      { subject: `${subjects.prefix}.>`, source: 'authz-service', reason: 'source_not_owner' },
    ]);
    expect(logger.messages('warn')).toEqual(['event dropped: its source does not own the subject']);
  });

  it('drops and counts what does not decode, and goes on', async () => {
    const logger = new RecordingLogger();
    const metrics = recordingMetrics();
    const follower = follow({ logger, metrics });
    await settled();
    const untyped = headers();
    for (const [key, values] of toNatsHeaders(anEvent(subjects)))
      if (key !== 'ce-type') untyped.set(key, values[0]!);
    nats.nc.publish(subjects.subject('garbage'), new TextEncoder().encode('not an event'));
    nats.nc.publish(subjects.subject('untyped'), new Uint8Array(), { headers: untyped });
    const good = anEvent(subjects);
    publish(good);

    await eventually(
      async () => follower.events.length,
      (n) => n === 1,
    );
    expect(follower.events).toEqual([good.id]);
    const undecodable = {
      subject: `${subjects.prefix}.>`,
      source: 'unknown',
      reason: 'undecodable',
    };
    expect(metrics.rejected).toEqual([undecodable, undecodable]);
    expect(logger.messages('warn')).toEqual([
      'undecodable event dropped',
      'undecodable event dropped',
    ]);
  });

  it('logs a failing handler and keeps delivering', async () => {
    const logger = new RecordingLogger();
    const follower = follow({ logger }, (event, into) => {
      into.events.push(event.id);
      if (into.events.length === 1) throw new Error('handler bug');
    });
    await settled();
    const events = [anEvent(subjects), anEvent(subjects)];
    for (const event of events) publish(event);

    await eventually(
      async () => follower.events.length,
      (n) => n === 2,
    );
    expect(follower.events).toEqual(events.map((e) => e.id));
    expect(logger.messages('error')).toEqual(['replica event handler failed']);
  });

  it('reports a disconnect as not connected then a gap, and a reconnect as a gap then connected', async () => {
    const follower = follow();
    await settled();
    await nats.nc.reconnect();
    await eventually(
      async () => follower.connected,
      (connected) => connected.length === 2,
    );
    expect(follower.connected).toEqual([false, true]);
    expect(follower.gaps).toEqual(['disconnected', 'reconnected']);

    // Still subscribed after the reconnect.
    const after = anEvent(subjects);
    publish(after);
    await eventually(
      async () => follower.events,
      (events) => events.includes(after.id),
    );
  });

  it('hears nothing once stopped', async () => {
    const follower = follow();
    await settled();
    await feeds.pop()!.stop();
    publish(anEvent(subjects));
    await settled();
    await new Promise((r) => setTimeout(r, 100));
    expect(follower.events).toEqual([]);
  });
});
