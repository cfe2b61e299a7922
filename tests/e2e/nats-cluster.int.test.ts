import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { AppError } from '@warden/errors';
import { MSG_ID_HEADER } from '@warden/events';
import { authzEventsV1, userEventsV1, type userv1 } from '@warden/proto';
import {
  natsConnectOptionsFor,
  startWardenNatsCluster,
  TEST_DATABASE_URL,
  waitFor,
  type WardenNatsCluster,
} from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

// The event backbone survives a node (DESIGN 4b): the real services on a 3-node JetStream cluster
// on loopback (streams with 3 replicas, every client given all three URLs), registrations at a
// steady rate while the node leading WARDEN_USER is SIGKILLed and later restarted.
const REGISTRATIONS = 300;
const PER_SECOND = 50;
const KILL_AT = 100;
const RESTART_AT = 200;
const RETRYABLE = new Set(['UNAVAILABLE', 'ABORTED', 'DEADLINE_EXCEEDED']);

let cluster: WardenNatsCluster;
let stack: Stack;

beforeAll(async () => {
  cluster = await startWardenNatsCluster({ size: 3, streamReplicas: 3 });
  stack = await startStack({ nats: cluster });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await cluster?.stop();
}, 60_000);

/** RegisterUser, retried with the same request_id after a retryable failure. */
async function register(i: number, retried: string[]): Promise<string> {
  const request = {
    email: `cluster${i}-${stack.prefix}@example.com`,
    password: PASSWORD,
    displayName: `C${i}`,
    requestId: randomUUID(),
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
        stack.users,
        'registerUser',
        request,
      );
      return response.user!.id;
    } catch (error) {
      const kind = (error as AppError).kind;
      if (!RETRYABLE.has(kind) || attempt >= 5) throw error;
      retried.push(kind);
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** Every message of `stream` on `subject` (an ordered consumer, in batches): msg id and payload. */
async function readStream(
  js: JetStreamClient,
  stream: string,
  subject: string,
): Promise<Array<{ msgId: string; data: Uint8Array }>> {
  const consumer = await js.consumers.get(stream, { filter_subjects: subject });
  const messages = [];
  for (let pending = -1; pending !== 0;) {
    pending = 0;
    for await (const message of await consumer.fetch({ max_messages: 500, expires: 2000 })) {
      messages.push({ msgId: message.headers?.get(MSG_ID_HEADER) ?? '', data: message.data });
      pending = message.info.pending;
    }
  }
  await consumer.delete();
  return messages;
}

const countBy = (keys: string[]) => {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
};

describe('a NATS node dies under registration load', () => {
  it('every registration is announced once and gets its default role exactly once', async () => {
    const leader = await cluster.streamLeader('WARDEN_USER');
    const victim = cluster.nodes[leader]!;
    const retried: string[] = [];
    const registered: Array<Promise<string>> = [];
    let restarted: Promise<void> | undefined;
    const started = Date.now();
    for (let i = 0; i < REGISTRATIONS; i++) {
      // A steady rate: registration i starts at i / PER_SECOND s, whatever the others are doing.
      const due = started + (i * 1000) / PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      if (i === KILL_AT) await victim.kill();
      if (i === RESTART_AT) restarted = victim.restart();
      registered.push(register(i, retried));
    }
    const ids = await Promise.all(registered);
    await restarted;
    const registeredAfterMs = Date.now() - started;
    expect(new Set(ids).size).toBe(REGISTRATIONS);
    expect(victim.pid()).toBeDefined();

    // Each user's default role, once, in authz's database.
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    const ops = await connect(natsConnectOptionsFor(cluster, 'ops'));
    try {
      const assignments = async () =>
        (
          await db.query<{ subject_id: string; role: string }>(
            `SELECT subject_id, role FROM "${stack.prefix}_authz".role_assignments WHERE subject_id = ANY($1)`,
            [ids],
          )
        ).rows;
      await waitFor(async () => (await assignments()).length >= REGISTRATIONS, {
        timeoutMs: 90_000,
        intervalMs: 250,
        what: `${REGISTRATIONS} default roles`,
      });
      const rows = await assignments();
      const rolesAfterMs = Date.now() - started;
      expect(rows).toHaveLength(REGISTRATIONS);
      expect(new Set(rows.map((r) => r.subject_id)).size).toBe(REGISTRATIONS);
      expect(new Set(rows.map((r) => r.role))).toEqual(new Set(['player']));

      // Nothing lost, nothing doubled on the backbone: one `registered` per user in WARDEN_USER,
      // one `role_assigned` per user in WARDEN_AUTHZ, and no message id stored twice.
      const js = jetstream(ops);
      const userEvents = await readStream(js, 'WARDEN_USER', 'warden.user.v1.registered');
      const registeredIds = countBy(
        userEvents.map((m) => userEventsV1.UserRegistered.decode(m.data).userId),
      );
      expect([...registeredIds.keys()].sort()).toEqual([...ids].sort());
      expect([...registeredIds.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(userEvents.map((m) => m.msgId)).size).toBe(userEvents.length);

      const roleEvents = await waitFor(
        async () => {
          const events = await readStream(js, 'WARDEN_AUTHZ', 'warden.authz.v1.role_assigned');
          return events.length >= REGISTRATIONS && events;
        },
        { timeoutMs: 90_000, intervalMs: 250, what: `${REGISTRATIONS} role_assigned events` },
      );
      const assigned = roleEvents.map((m) => authzEventsV1.RoleAssigned.decode(m.data));
      const assignedIds = countBy(assigned.map((e) => e.subjectId));
      expect([...assignedIds.keys()].sort()).toEqual([...ids].sort());
      expect([...assignedIds.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(assigned.map((e) => e.role))).toEqual(new Set(['player']));
      expect(new Set(roleEvents.map((m) => m.msgId)).size).toBe(roleEvents.length);

      // The restarted node holds the streams again, current with the others.
      const jsm = await jetstreamManager(ops);
      for (const stream of ['WARDEN_USER', 'WARDEN_AUTHZ']) {
        const info = await jsm.streams.info(stream);
        const members = [info.cluster!.leader, ...info.cluster!.replicas!.map((r) => r.name)];
        expect(members.sort()).toEqual(['n1', 'n2', 'n3']);
      }
      console.error(
        `nats cluster: ${REGISTRATIONS} registrations at ${PER_SECOND}/s, ${victim.name} (WARDEN_USER leader) killed at #${KILL_AT}, restarted at #${RESTART_AT}; all registered after ${registeredAfterMs} ms, all roles after ${rolesAfterMs} ms; retried calls: ${retried.length} (${[...new Set(retried)].join(', ') || 'none'})`,
      );
    } finally {
      await ops.close();
      await db.end();
    }
  }, 240_000);
});
