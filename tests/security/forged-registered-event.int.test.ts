import { randomBytes } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { newEvent, STREAMS, toNatsHeaders, type EventEnvelope } from '@warden/events';
import { sessionv1, userEventsV1 } from '@warden/proto';
import {
  freePort,
  natsConnectOptions,
  startServiceProcess,
  TEST_DATABASE_URL,
  testNatsUrl,
  uniqueName,
  waitFor,
  type NatsUser,
  type ServiceProcess,
} from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attack 1: anyone who could publish on NATS became admin. A hand-made `warden.user.v1.registered`
 * carrying a player's id and the bootstrap-admin email, published by a plain NATS client, made the
 * player admin. Now nats-server refuses anonymous clients, lets each service publish only its own
 * context's events and no service touch another's stream, and consumers drop (log, count) events
 * whose ce-source does not own their subject.
 */
let stack: Stack;
let ops: NatsConnection;
let player: { id: string; email: string; token: string; sessionId: string };
const metricsPorts = { authz: 0, session: 0 };
const connections: NatsConnection[] = [];
const spawned: ServiceProcess[] = [];

const ASSIGN_ADMIN = { type: 'role', id: 'admin', ownerId: '' };

beforeAll(async () => {
  metricsPorts.authz = await freePort();
  metricsPorts.session = await freePort();
  stack = await startStack({
    env: {
      authz: { WARDEN_WORKER_METRICS_PORT: String(metricsPorts.authz) },
      session: { WARDEN_WORKER_METRICS_PORT: String(metricsPorts.session) },
    },
  });
  ops = await connect(natsConnectOptions('ops'));
  const email = `player-${stack.prefix}@example.com`;
  const user = await register(stack, email);
  await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
    timeoutMs: 15_000,
    what: "the player's default role",
  });
  const { session, token } = await signIn(stack, email);
  player = { id: user.id, email, token, sessionId: session.id };
}, 180_000);

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await Promise.all(spawned.map((p) => p.stop()));
  await ops?.close();
  await stack?.stop();
}, 60_000);

async function connectAs(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect(natsConnectOptions(user));
  connections.push(nc);
  return nc;
}

/** The attacker's event: the player's id with the bootstrap-admin email, claiming user-service. */
function forgedRegistered(source = 'user-service'): EventEnvelope {
  return newEvent({
    type: 'warden.user.v1.registered',
    source,
    subjectId: player.id,
    payload: userEventsV1.UserRegistered.encode({
      userId: player.id,
      email: stack.adminEmail,
      displayName: 'admin',
      occurTime: new Date(),
    }).finish(),
  });
}

function forgedDeleted(source: string): EventEnvelope {
  return newEvent({
    type: 'warden.user.v1.deleted',
    source,
    subjectId: player.id,
    payload: userEventsV1.UserDeleted.encode({ userId: player.id, occurTime: new Date() }).finish(),
  });
}

/** The ce-ids stored in WARDEN_USER on `subject` since `since`, read as ops. */
async function storedEventIds(subject: string, since: Date): Promise<string[]> {
  const jsm = await jetstreamManager(ops);
  const name = uniqueName('forged_reader');
  const info = await jsm.consumers.add(STREAMS.user.name, {
    name,
    filter_subject: subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: since.toISOString(),
    ack_policy: AckPolicy.None,
  });
  try {
    const ids: string[] = [];
    if (info.num_pending === 0) return ids;
    const consumer = await jetstream(ops).consumers.get(STREAMS.user.name, name);
    const batch = await consumer.fetch({ max_messages: info.num_pending, expires: 5_000 });
    for await (const msg of batch) {
      ids.push(msg.headers?.get('ce-id') ?? '');
      if (msg.info.pending === 0) break;
    }
    return ids;
  } finally {
    await jsm.consumers.delete(STREAMS.user.name, name);
  }
}

/** `warden_events_rejected_total` of one worker, summed over its series matching `labels`. */
async function rejectedCount(port: number, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('warden_events_rejected_total{'))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const isAdmin = async (userId: string) =>
  (await check(stack, userId, 'role.assign', ASSIGN_ADMIN)).allowed;

async function sessionStillValid(): Promise<boolean> {
  const response = await call<sessionv1.ValidateSessionRequest, sessionv1.ValidateSessionResponse>(
    stack.sessions,
    'validateSession',
    { token: player.token },
  );
  return response.session?.id === player.sessionId;
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected NATS to refuse');
}

describe('a forged warden.user.v1.registered never makes a player admin', () => {
  it('refuses a client without credentials, or with a wrong password', async () => {
    const anonymous = await refusal(connect({ servers: testNatsUrl(), reconnect: false }));
    expect(anonymous.message).toMatch(/authorization violation/i);
    const guessed = await refusal(
      connect({
        servers: testNatsUrl(),
        user: 'user-service',
        pass: 'dev-password',
        reconnect: false,
      }),
    );
    expect(guessed.message).toMatch(/authorization violation/i);
  });

  it('keeps a production service from connecting anonymously: it refuses to start', async () => {
    const key = () => randomBytes(32).toString('base64');
    const worker = startServiceProcess('user-service', 'worker.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: TEST_DATABASE_URL,
      NATS_URL: testNatsUrl(),
      WARDEN_DATABASE_SCHEMA: `${stack.prefix}_user`,
      WARDEN_DATABASE_MIGRATE_ON_START: 'false',
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ gateway: key() }),
      WARDEN_AUTH_CLIENT_KEY: key(),
      WARDEN_IDEMPOTENCY_SECRET: key(),
      WARDEN_MFA_ENCRYPTION_KEY: key(),
      WARDEN_GRPC_ALLOW_INSECURE: 'true',
    });
    spawned.push(worker);
    const code = await new Promise<number | null>((resolve) =>
      worker.child.exitCode !== null
        ? resolve(worker.child.exitCode)
        : worker.child.once('exit', (exitCode) => resolve(exitCode)),
    );
    expect(code).toBe(1);
    expect(worker.output()).toContain(
      'nats: NODE_ENV=production refuses an anonymous connection; set nats.user and nats.password (WARDEN_NATS_USER, WARDEN_NATS_PASSWORD) or nats.credentials_file',
    );
  });

  it("refuses another service's credentials on user-service's subjects: nothing reaches the stream", async () => {
    const since = new Date(Date.now() - 1_000);
    const session = await connectAs('session-service');
    const forged = forgedRegistered();
    const rejected = await refusal(
      jetstream(session).publish(forged.type, forged.payload, {
        msgID: forged.id,
        headers: toNatsHeaders(forged),
        timeout: 5_000,
      }),
    );
    expect(rejected.message).toMatch(
      /permissions violation for publish to "warden\.user\.v1\.registered"/i,
    );
    // A plain publish (no ack asked for) is refused the same way, and reported on the connection.
    const statuses = session.status();
    session.publish(forged.type, forged.payload, { headers: toNatsHeaders(forged) });
    for await (const status of statuses) {
      if (status.type !== 'error') continue;
      expect(String(status.error)).toMatch(/permissions violation for publish/i);
      break;
    }
    // The stream is the only way into the consumers: the forged event is not in it.
    const stored = await storedEventIds('warden.user.v1.registered', since);
    expect(stored).not.toContain(forged.id);
    expect(await isAdmin(player.id)).toBe(false);
  });

  it('drops, logs and counts an event on user-service subjects whose ce-source is not user-service', async () => {
    // Published with credentials that may publish there, claiming to come from session-service.
    const user = await connectAs('user-service');
    const js = jetstream(user);
    const registered = forgedRegistered('session-service');
    const deleted = forgedDeleted('session-service');
    for (const event of [registered, deleted])
      await js.publish(event.type, event.payload, {
        msgID: event.id,
        headers: toNatsHeaders(event),
      });

    // authz's worker consumes every user event, session-service's the deletions.
    const foreign = { source: 'session-service', reason: 'source_not_owner' };
    await waitFor(async () => (await rejectedCount(metricsPorts.authz, foreign)) === 2, {
      timeoutMs: 15_000,
      what: "authz's worker to drop both forged events",
    });
    await waitFor(
      async () =>
        (await rejectedCount(metricsPorts.session, {
          ...foreign,
          subject: 'warden.user.v1.deleted',
        })) === 1,
      { timeoutMs: 15_000, what: "session-service's worker to drop the forged deletion" },
    );
    const authzWorker = stack.processes.find((p) => p.name === 'authz-service/worker.ts')!;
    for (const event of [registered, deleted]) {
      const line = authzWorker
        .output()
        .split('\n')
        .filter((l) => l.includes(event.id));
      expect(line).toHaveLength(1);
      expect(JSON.parse(line[0]!)).toMatchObject({
        level: 'warn',
        eventId: event.id,
        source: 'session-service',
        expectedSource: 'user-service',
        msg: 'event dropped: its source does not own the subject',
      });
    }
    // Nothing was applied: not admin, the player role kept, the session not ended.
    expect(await isAdmin(player.id)).toBe(false);
    expect((await check(stack, player.id, 'game.join')).allowed).toBe(true);
    expect(await sessionStillValid()).toBe(true);
  });

  it("lets no service purge, delete, reconfigure or shadow another context's stream", async () => {
    const jsm: JetStreamManager = await jetstreamManager(await connectAs('session-service'));
    const opsJsm = await jetstreamManager(ops);
    const before = await opsJsm.streams.info(STREAMS.user.name);
    const authzDurable = `${stack.prefix}_authz_user_events`;
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['purge WARDEN_USER', () => jsm.streams.purge(STREAMS.user.name)],
      ['delete WARDEN_USER', () => jsm.streams.delete(STREAMS.user.name)],
      [
        'delete a message',
        () => jsm.streams.deleteMessage(STREAMS.user.name, before.state.last_seq),
      ],
      [
        'shorten its retention',
        () => jsm.streams.update(STREAMS.user.name, { ...before.config, max_age: 1_000_000_000 }),
      ],
      [
        'republish its own stream into user subjects',
        async () => {
          const own = await opsJsm.streams.info(STREAMS.session.name);
          return jsm.streams.update(STREAMS.session.name, {
            ...own.config,
            republish: { src: '>', dest: 'warden.user.v1.registered' },
          });
        },
      ],
      [
        'create a stream of its own',
        () => jsm.streams.add({ name: uniqueName('EVIL').toUpperCase(), subjects: ['evil.>'] }),
      ],
      ["delete authz's durable", () => jsm.consumers.delete(STREAMS.user.name, authzDurable)],
    ];
    for (const [what, attempt] of attempts) {
      const error = await refusal(attempt());
      expect(error.message, what).toMatch(/permissions violation/i);
    }
    const after = await opsJsm.streams.info(STREAMS.user.name);
    expect(after.config.max_age).toBe(before.config.max_age);
    expect(after.state.first_seq).toBe(before.state.first_seq);
    expect(after.state.messages).toBeGreaterThanOrEqual(before.state.messages);
    expect((await opsJsm.streams.info(STREAMS.session.name)).config.republish).toBeUndefined();
    expect((await opsJsm.consumers.info(STREAMS.user.name, authzDurable)).name).toBe(authzDurable);
  });

  it('still carries what each service may publish: a real deletion is applied', async () => {
    // The control: the same path, with user-service's own source, does what it always did.
    const user = await connectAs('user-service');
    const deleted = forgedDeleted('user-service');
    await jetstream(user).publish(deleted.type, deleted.payload, {
      msgID: deleted.id,
      headers: toNatsHeaders(deleted),
    });
    await waitFor(async () => !(await check(stack, player.id, 'game.join')).allowed, {
      timeoutMs: 15_000,
      what: "the deletion to remove the player's roles",
    });
    await waitFor(
      () =>
        sessionStillValid().then(
          () => false,
          () => true,
        ),
      {
        timeoutMs: 15_000,
        what: "the deletion to end the player's session",
      },
    );
  });
});
