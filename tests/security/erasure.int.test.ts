import { randomBytes, randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import type { sessionv1, userv1 } from '@warden/proto';
import { natsConnectOptions, TEST_DATABASE_URL, uniqueName, waitFor } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, PASSWORD } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attack 7: after DeleteUser, a person's email, display names, IP addresses and user agents must be
 * nowhere in warden's databases or JetStream streams. One person leaves every trace the API lets
 * them leave (registration and sign-ins with request ids, a refresh, a logout, a rename), is
 * deleted, and then every row of every table of the stack's three schemas and every message the
 * three streams took since the stack started are searched: as text, hex (bytea) and base64.
 */
const STREAMS = ['WARDEN_USER', 'WARDEN_SESSION', 'WARDEN_AUTHZ'];
let stack: Stack;
let db: pg.Pool;
let startedAt: Date;

const tag = randomBytes(6).toString('hex');
const person = {
  email: `erase-${tag}@example.com`,
  displayName: `Erasable ${tag}`,
  renamed: `Renamed ${tag}`,
  ips: [
    `2001:db8:${tag.slice(0, 4)}:${tag.slice(4, 8)}::1`,
    `198.51.100.${parseInt(tag.slice(0, 2), 16) % 250}`,
  ],
  userAgents: [`EraseAgent/${tag}`, `EraseAgent-Mobile/${tag}`],
};
/** What must be gone; the IPv4 address is not unique to this run, so it is checked in this stack's rows only. */
const needles = [
  person.email,
  person.displayName,
  person.renamed,
  ...person.ips,
  ...person.userAgents,
];
const uniqueNeedles = needles.filter((needle) => needle !== person.ips[1]);
const schemas = () => ['user', 'session', 'authz'].map((s) => `${stack.prefix}_${s}`);

beforeAll(async () => {
  startedAt = new Date();
  // Every process logs at info, so the search of their output covers what production logs.
  const info = { WARDEN_LOG_LEVEL: 'info' };
  stack = await startStack({ env: { user: info, session: info, authz: info } });
  db = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
}, 60_000);

/** Every occurrence of a needle in a text, in the encodings a row or a message could carry it. */
function findings(where: string, text: string, searched: string[]): string[] {
  const hits: string[] = [];
  for (const needle of searched) {
    const forms = {
      text: needle,
      hex: Buffer.from(needle).toString('hex'),
      base64: Buffer.from(needle).toString('base64').replace(/=+$/, ''),
    };
    for (const [form, value] of Object.entries(forms))
      if (text.toLowerCase().includes(value.toLowerCase()))
        hits.push(`${where}: ${needle} (${form})`);
  }
  return hits;
}

async function databaseFindings(): Promise<string[]> {
  const hits: string[] = [];
  const { rows: tables } = await db.query<{ schema: string; table: string }>(
    `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables
     WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
    [schemas()],
  );
  // Every table of the three schemas, whatever it holds: the search must not depend on knowing them.
  expect(tables.map((t) => t.table)).toEqual(
    expect.arrayContaining(['users', 'sessions', 'outbox']),
  );
  for (const { schema, table } of tables) {
    const { rows } = await db.query<{ row: string }>(
      `SELECT t::text AS row FROM "${schema}"."${table}" t`,
    );
    for (const { row } of rows) hits.push(...findings(`${schema}.${table}`, row, needles));
  }
  return hits;
}

/** RegisterUser's and StartSession's stored responses about the user, by service. */
async function idempotencyRecordsAbout(userId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const service of ['user', 'session']) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${stack.prefix}_${service}".idempotency_keys WHERE owner_id = $1`,
      [userId],
    );
    counts[service] = rows[0]!.n;
  }
  return counts;
}

/** Every message each stream took since the stack started, read as `ops` through a consumer of its own. */
async function streamFindings(): Promise<{ hits: string[]; read: Record<string, number> }> {
  const nc = await connect(natsConnectOptions('ops'));
  const hits: string[] = [];
  const read: Record<string, number> = {};
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    for (const stream of STREAMS) {
      const name = uniqueName('erasure_reader');
      const info = await jsm.consumers.add(stream, {
        name,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: startedAt.toISOString(),
        ack_policy: AckPolicy.None,
        inactive_threshold: nanos(60_000),
      });
      read[stream] = 0;
      try {
        const consumer = await js.consumers.get(stream, name);
        for (let pending = info.num_pending; pending > 0;) {
          const batch = await consumer.fetch({
            max_messages: Math.min(pending, 500),
            expires: 2000,
          });
          let received = 0;
          for await (const msg of batch) {
            hits.push(...findings(`${stream} #${msg.seq}`, describeMessage(msg), uniqueNeedles));
            received++;
          }
          if (received === 0) break;
          pending -= received;
          read[stream] += received;
        }
        expect(read[stream]).toBe(info.num_pending);
      } finally {
        await jsm.consumers.delete(stream, name).catch(() => undefined);
      }
    }
  } finally {
    await nc.close();
  }
  return { hits, read };
}

const describeMessage = (msg: JsMsg): string =>
  [
    msg.subject,
    ...(msg.headers ? [...msg.headers.keys()].map((k) => `${k}: ${msg.headers!.get(k)}`) : []),
    Buffer.from(msg.data).toString('latin1'),
  ].join('\n');

/** The actions of every audit entry of the three services about `id` (as target or in details). */
async function auditActionsAbout(id: string): Promise<string[]> {
  const actions: string[] = [];
  for (const schema of schemas()) {
    const { rows } = await db.query<{ action: string }>(
      `SELECT action FROM "${schema}".audit_events
       WHERE target_id = $1 OR actor_id = $1 OR details->>'user_id' = $1 ORDER BY time, id`,
      [id],
    );
    actions.push(...rows.map((r) => r.action));
  }
  return actions;
}

describe('erasure', () => {
  it("leaves none of a deleted user's email, display names, IP addresses or user agents in any table or stream", async () => {
    const admin = await bootstrapAdmin(stack);
    const { user } = await call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
      stack.users,
      'registerUser',
      {
        email: person.email,
        password: PASSWORD,
        displayName: person.displayName,
        requestId: randomUUID(),
      },
    );
    const userId = user!.id;
    const signIn = (i: number) =>
      call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
        stack.sessions,
        'startSession',
        {
          email: person.email,
          password: PASSWORD,
          client: { ipAddress: person.ips[i]!, userAgent: person.userAgents[i]! },
          requestId: randomUUID(),
        },
      );
    const first = await signIn(0);
    const second = await signIn(1);
    await call(stack.sessions, 'refreshSession', { token: second.token });
    await call(stack.sessions, 'endSession', { sessionId: first.session!.id }, first.token);
    await call(
      stack.users,
      'updateUser',
      { userId, displayName: person.renamed, updateMask: ['display_name'] },
      admin.token,
    );
    // The traces are there before the deletion: the search below can find them.
    expect(await databaseFindings()).not.toEqual([]);
    // So are the idempotent responses about the person (encrypted, so the search cannot see them).
    expect(await idempotencyRecordsAbout(userId)).toEqual({ user: 1, session: 2 });

    await call(stack.users, 'deleteUser', { userId }, admin.token);

    // Deleted by user-service, its event applied by both consumers, every outbox relayed.
    await waitFor(
      async () => {
        const { rows } = await db.query(
          `SELECT
             (SELECT count(*) FROM "${stack.prefix}_session".sessions
               WHERE user_id = $1 AND status = 'ACTIVE')::int AS active,
             (SELECT count(*) FROM "${stack.prefix}_session".sessions
               WHERE user_id = $1 AND end_reason = 'USER_DELETED')::int AS ended_by_deletion,
             (SELECT count(*) FROM "${stack.prefix}_authz".role_assignments
               WHERE subject_id = $2)::int AS roles,
             (SELECT count(*) FROM "${stack.prefix}_user".outbox WHERE published_time IS NULL)
               + (SELECT count(*) FROM "${stack.prefix}_session".outbox WHERE published_time IS NULL)
               + (SELECT count(*) FROM "${stack.prefix}_authz".outbox WHERE published_time IS NULL)
               AS unpublished`,
          [userId, userId],
        );
        const state = rows[0];
        return (
          state.active === 0 &&
          state.ended_by_deletion === 1 &&
          state.roles === 0 &&
          Number(state.unpublished) === 0
        );
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the deletion applied everywhere and relayed' },
    );

    expect(await databaseFindings()).toEqual([]);
    expect(await idempotencyRecordsAbout(userId)).toEqual({ user: 0, session: 0 });
    // The audit trails keep what happened to the person, by pseudonymous id only (the search
    // above covered their rows too): who deleted whom, and when, stays answerable.
    expect(await auditActionsAbout(userId)).toEqual(
      expect.arrayContaining(['user.registered', 'user.updated', 'user.deleted', 'role.assigned']),
    );
    const streams = await streamFindings();
    expect(streams.hits).toEqual([]);
    // The search read the person's events: registered, updated, deleted; started, refreshed, ended.
    expect(streams.read.WARDEN_USER!).toBeGreaterThanOrEqual(3);
    expect(streams.read.WARDEN_SESSION!).toBeGreaterThanOrEqual(4);
    // Nor did any process log them.
    for (const process of stack.processes)
      expect(findings(process.name, process.output(), uniqueNeedles)).toEqual([]);
  }, 120_000);
});

describe('the audit trails', () => {
  it('hold no password, password hash, session token or its hash, nor a one-time code', async () => {
    const email = `audited-${tag}@example.com`;
    const { user } = await call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
      stack.users,
      'registerUser',
      { email, password: PASSWORD, displayName: 'Audited', requestId: randomUUID() },
    );
    const userId = user!.id;
    const started = await call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
      stack.sessions,
      'startSession',
      {
        email,
        password: PASSWORD,
        client: { ipAddress: '127.0.0.1', userAgent: 'e2e' },
        requestId: randomUUID(),
      },
    );
    const refreshed = await call<sessionv1.RefreshSessionRequest, sessionv1.RefreshSessionResponse>(
      stack.sessions,
      'refreshSession',
      { token: started.token },
    );
    const { code } = await call<
      userv1.RequestPasswordResetRequest,
      userv1.RequestPasswordResetResponse
    >(stack.users, 'requestPasswordReset', { email });
    const { rows: hashes } = await db.query<{ password_hash: string }>(
      `SELECT password_hash FROM "${stack.prefix}_user".users WHERE id = $1`,
      [userId],
    );
    const newPassword = `new ${PASSWORD} ${tag}`;
    await call(stack.users, 'resetPassword', { email, code, newPassword });
    const { rows: tokenHashes } = await db.query<{ token_hash: string }>(
      `SELECT token_hash FROM "${stack.prefix}_session".sessions WHERE user_id = $1`,
      [userId],
    );
    const secrets = [
      PASSWORD,
      newPassword,
      hashes[0]!.password_hash,
      started.token,
      refreshed.token,
      ...tokenHashes.map((r) => r.token_hash),
      code,
    ];
    expect(secrets.every((secret) => secret.length >= 8)).toBe(true);

    const hits: string[] = [];
    for (const schema of schemas()) {
      const { rows } = await db.query<{ row: string }>(
        `SELECT t::text AS row FROM "${schema}".audit_events t`,
      );
      for (const { row } of rows) hits.push(...findings(`${schema}.audit_events`, row, secrets));
    }
    expect(hits).toEqual([]);
    // What the search read: the person's changes, each recorded.
    expect(await auditActionsAbout(userId)).toEqual(
      expect.arrayContaining([
        'user.registered',
        'user.code_issued',
        'user.password_changed',
        'session.started',
        'session.refreshed',
      ]),
    );
  }, 60_000);
});
