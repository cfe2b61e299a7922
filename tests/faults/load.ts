import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { MSG_ID_HEADER } from '@warden/events';
import { authzEventsV1, sessionv1, userEventsV1, userv1 } from '@warden/proto';
import { natsConnectOptions, uniqueName, waitFor } from '@warden/testing';
import pg from 'pg';
import { PASSWORD } from '../support/flows.js';
import { call, type Stack } from '../support/stack.js';

/** What a caller may see while a replica, a worker or Postgres is down: a reason to retry. */
export const RETRYABLE = new Set(['UNAVAILABLE', 'ABORTED', 'DEADLINE_EXCEEDED']);

/** One user of the load: registered, then signed in, each with its own request_id. */
export interface Outcome {
  email: string;
  registerRequestId: string;
  signInRequestId: string;
  userId?: string;
  sessionId?: string;
  /** Attempts that failed before one succeeded (codes), per call. */
  registerFailures: string[];
  signInFailures: string[];
}

export interface LoadReport {
  outcomes: Outcome[];
  /** Failures with a code a caller must never see (INTERNAL, UNKNOWN, ...) or attempts exhausted. */
  violations: string[];
  /** Every failed attempt's kind/reason, counted. */
  failures: Map<string, number>;
  /** Replays of a failed call's request_id that returned another user or session. */
  mismatches: string[];
}

export interface Load {
  /** Completed users (registered and signed in) so far. */
  completed(): number;
  /** Failed attempts so far. */
  failed(): number;
  /** Resolves once `n` more users have completed (throws if the load ends first). */
  progress(n: number, what: string): Promise<void>;
  /** Tells the load the faults are over: it ends after `minUsers`. */
  finish(): Promise<LoadReport>;
}

// Pauses alone outlast the idempotency pending timeout (10 s) of a request whose process died.
const MAX_ATTEMPTS = 200;
const RETRY_PAUSE_MS = 100;

/** RegisterUser of one load user with its own request_id. */
export const register = (stack: Stack, o: Outcome) =>
  call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(stack.users, 'registerUser', {
    email: o.email,
    password: PASSWORD,
    displayName: 'Fault',
    requestId: o.registerRequestId,
  });

/** StartSession of one load user with its own request_id. */
export const signIn = (stack: Stack, o: Outcome) =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    {
      email: o.email,
      password: PASSWORD,
      client: { ipAddress: '127.0.0.1', userAgent: 'faults' },
      requestId: o.signInRequestId,
    },
  );

/** A user of the load not registered yet, with fresh request_ids. */
export const newOutcome = (name: string): Outcome => ({
  email: `${name}@example.com`,
  registerRequestId: randomUUID(),
  signInRequestId: randomUUID(),
  registerFailures: [],
  signInFailures: [],
});

/**
 * `run` again while it fails with a retryable code (at most MAX_ATTEMPTS times, RETRY_PAUSE_MS
 * apart), telling `failed` each failure's kind/reason; any other failure is thrown at once.
 */
export async function retrying<T>(
  what: string,
  run: () => Promise<T>,
  failed: (label: string) => void = () => undefined,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (error) {
      const { kind, reason } = error as { kind?: string; reason?: string };
      const label = `${kind ?? 'non-grpc'}/${reason ?? (error as Error).message}`;
      failed(label);
      if (!kind || !RETRYABLE.has(kind)) throw new Error(`${what}: ${label}`, { cause: error });
      if (i === MAX_ATTEMPTS) throw new Error(`${what}: still ${label} after ${i} attempts`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

/**
 * Registration and sign-in load over `concurrency` callers that retries a retryable failure with the
 * same request_id (bounded), then replays a call that had failed once more and checks it returns the
 * same user or session. Runs until `finish()` and `minUsers`, never past `maxUsers`.
 */
export function startLoad(
  stack: Stack,
  { concurrency = 4, minUsers = 40, maxUsers = 2_500 } = {},
): Load {
  const outcomes: Outcome[] = [];
  const violations: string[] = [];
  const failures = new Map<string, number>();
  const mismatches: string[] = [];
  let done = 0;
  let failedAttempts = 0;
  let finishing = false;
  const waiters: Array<{ target: number; resolve: () => void }> = [];
  const tag = randomUUID().slice(0, 8);

  const attempt = <T>(what: string, failed: string[], run: () => Promise<T>): Promise<T> =>
    retrying(what, run, (label) => {
      failures.set(label, (failures.get(label) ?? 0) + 1);
      failedAttempts++;
      failed.push(label);
    });

  const one = async (n: number) => {
    const o = newOutcome(`fault-${tag}-${n}`);
    outcomes.push(o);
    try {
      const { user } = await attempt(`register ${o.email}`, o.registerFailures, () =>
        register(stack, o),
      );
      o.userId = user!.id;
      const { session } = await attempt(`sign in ${o.email}`, o.signInFailures, () =>
        signIn(stack, o),
      );
      o.sessionId = session!.id;
      // A call that failed once is replayed: the same request_id must answer the same result.
      if (o.registerFailures.length > 0) {
        const replay = await attempt(`replay register ${o.email}`, [], () => register(stack, o));
        if (replay.user!.id !== o.userId)
          mismatches.push(`register ${o.email}: ${o.userId} then ${replay.user!.id}`);
      }
      if (o.signInFailures.length > 0) {
        const replay = await attempt(`replay sign-in ${o.email}`, [], () => signIn(stack, o));
        if (replay.session!.id !== o.sessionId)
          mismatches.push(`sign-in ${o.email}: ${o.sessionId} then ${replay.session!.id}`);
      }
      done++;
      for (const w of waiters.filter((w) => done >= w.target)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    } catch (error) {
      violations.push((error as Error).message);
    }
  };

  let next = 0;
  const caller = async () => {
    while (next < maxUsers && !(finishing && next >= minUsers) && violations.length === 0)
      await one(next++);
  };
  const callers = Promise.all(Array.from({ length: concurrency }, caller));

  return {
    completed: () => done,
    failed: () => failedAttempts,
    progress(n, what) {
      const target = done + n;
      return Promise.race([
        new Promise<void>((resolve) => waiters.push({ target, resolve })),
        callers.then(() => {
          throw new Error(
            `the load ended before ${what} (${done}/${target} users; ${violations.join('; ')})`,
          );
        }),
      ]);
    },
    async finish() {
      finishing = true;
      await callers;
      return { outcomes, violations, failures, mismatches };
    },
  };
}

/**
 * Calls RegisterUser and StartSession again with the request_ids of up to `sample` acknowledged
 * users, spread over the run: each must answer the user and the session its first success did,
 * whichever replica answers (restarted ones included). Returns the ones that did not.
 */
export async function replayed(stack: Stack, report: LoadReport, sample = 40): Promise<string[]> {
  const acked = report.outcomes.filter((o) => o.userId && o.sessionId);
  const step = Math.max(1, Math.floor(acked.length / sample));
  const wrong: string[] = [];
  for (let i = 0; i < acked.length; i += step) {
    const o = acked[i]!;
    const { user } = await register(stack, o);
    if (user!.id !== o.userId) wrong.push(`register ${o.email}: ${o.userId} then ${user!.id}`);
    const { session } = await signIn(stack, o);
    if (session!.id !== o.sessionId)
      wrong.push(`sign-in ${o.email}: ${o.sessionId} then ${session!.id}`);
  }
  return wrong;
}

/** An event read back from a stream, with the message id JetStream deduplicated it by. */
interface StoredEvent<T> {
  /** `Nats-Msg-Id`: the outbox relay publishes each outbox row with the row's id. */
  msgId: string | undefined;
  event: T;
}

/** Events on `subject` in `stream` since `since`, decoded by `decode`, read as ops. */
async function storedEvents<T>(
  stream: string,
  subject: string,
  since: Date,
  decode: (data: Uint8Array) => T,
): Promise<StoredEvent<T>[]> {
  const nc = await connect(natsConnectOptions('ops'));
  try {
    const jsm = await jetstreamManager(nc);
    const name = uniqueName('faults_reader');
    const info = await jsm.consumers.add(stream, {
      name,
      filter_subject: subject,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
      ack_policy: AckPolicy.None,
    });
    try {
      const events: StoredEvent<T>[] = [];
      if (info.num_pending === 0) return events;
      const consumer = await jetstream(nc).consumers.get(stream, name);
      // Bounded: as many as were pending when the consumer was made, other runs' events included.
      for (let left = info.num_pending; left > 0;) {
        const batch = await consumer.fetch({ max_messages: Math.min(left, 1_000), expires: 5_000 });
        let got = 0;
        for await (const msg of batch) {
          events.push({ msgId: msg.headers?.get(MSG_ID_HEADER), event: decode(msg.data) });
          got++;
          if (msg.info.pending === 0) left = 0;
        }
        if (got === 0) break;
        left = left === 0 ? 0 : left - got;
      }
      return events;
    } finally {
      await jsm.consumers.delete(stream, name);
    }
  } finally {
    await nc.close();
  }
}

const countBy = (ids: string[]) => {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
};

export interface Effects {
  /** Acknowledged users whose registered event is not in the stream exactly once. */
  registeredEvents: string[];
  /** Acknowledged users without exactly one default role (row and role_assigned event). */
  defaultRoles: string[];
  /** Users in the database no caller was acknowledged for. */
  phantomUsers: string[];
  /** Users without exactly the one session their sign-in request_id made. */
  sessions: string[];
}

/**
 * What the load left behind, once every acknowledged user has its default role and the user and
 * authz outboxes are published (bounded wait): each
 * list names what breaks "0 lost events, 0 duplicate effects, no phantom users".
 */
export async function effectsOf(
  stack: Stack,
  databaseUrl: string,
  report: LoadReport,
  since: Date,
): Promise<Effects> {
  const acked = report.outcomes.filter((o) => o.userId && o.sessionId);
  const ackedIds = new Set(acked.map((o) => o.userId!));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const schema = (s: string) => `"${stack.prefix}_${s}"`;
    const assigned = async () =>
      (
        await db.query<{ subject_id: string }>(
          `SELECT subject_id FROM ${schema('authz')}.role_assignments WHERE role = 'player'`,
        )
      ).rows.map((r) => r.subject_id);
    // The relays publish a committed outbox row within their idle poll (1 s) or, after a failed
    // publish or a relay killed holding its claim, a backoff of up to 5 s: read the streams once
    // both outboxes have marked every row published (a marked row is in its stream).
    const unpublished = async (service: string) =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${schema(service)}.outbox WHERE published_time IS NULL`,
          )
        ).rows[0]!.n,
      );
    await waitFor(
      async () => {
        const have = new Set(await assigned());
        return (
          [...ackedIds].every((id) => have.has(id)) &&
          (await unpublished('user')) === 0 &&
          (await unpublished('authz')) === 0
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'the default role of every acknowledged user, and every outbox row published',
      },
    );
    const roleRows = countBy(await assigned());
    // Only this stack's user-service publishes registered events for its users (their ids are its
    // own), so every registered event of an acknowledged user in the stream counts.
    const registered = countBy(
      (
        await storedEvents('WARDEN_USER', 'warden.user.v1.registered', since, (d) =>
          userEventsV1.UserRegistered.decode(d),
        )
      ).map(({ event }) => event.userId),
    );
    // Every stack's authz worker consumes all of WARDEN_USER, so a stack running at the same time
    // also gives these users a default role in its own schema and publishes its own role_assigned
    // for them. Count only the events this stack's authz outbox published: the relay publishes each
    // outbox row with the row's id as Nats-Msg-Id (read after the stream, so every event of ours
    // already there has its row; published rows are kept for the outbox retention, 24 h).
    const roleEventsInStream = await storedEvents(
      'WARDEN_AUTHZ',
      'warden.authz.v1.role_assigned',
      since,
      (d) => authzEventsV1.RoleAssigned.decode(d),
    );
    const ownOutbox = new Set(
      (await db.query<{ id: string }>(`SELECT id FROM ${schema('authz')}.outbox`)).rows.map(
        (r) => r.id,
      ),
    );
    const roleEvents = countBy(
      roleEventsInStream
        .filter(
          ({ msgId, event }) =>
            msgId !== undefined && ownOutbox.has(msgId) && event.role === 'player',
        )
        .map(({ event }) => event.subjectId),
    );
    const users = (await db.query<{ id: string }>(`SELECT id FROM ${schema('user')}.users`)).rows;
    const sessions = countBy(
      (
        await db.query<{ user_id: string }>(`SELECT user_id FROM ${schema('session')}.sessions`)
      ).rows.map((r) => r.user_id),
    );
    const sessionOf = new Map(acked.map((o) => [o.userId!, o.sessionId!]));
    const sessionIds = new Set(
      (await db.query<{ id: string }>(`SELECT id FROM ${schema('session')}.sessions`)).rows.map(
        (r) => r.id,
      ),
    );
    return {
      registeredEvents: [...ackedIds]
        .filter((id) => registered.get(id) !== 1)
        .map((id) => `${id}: ${registered.get(id) ?? 0} registered events`),
      defaultRoles: [...ackedIds]
        .filter((id) => roleRows.get(id) !== 1 || roleEvents.get(id) !== 1)
        .map(
          (id) =>
            `${id}: ${roleRows.get(id) ?? 0} rows, ${roleEvents.get(id) ?? 0} role_assigned events`,
        ),
      phantomUsers: users.filter((u) => !ackedIds.has(u.id)).map((u) => u.id),
      sessions: [...ackedIds]
        .filter((id) => sessions.get(id) !== 1 || !sessionIds.has(sessionOf.get(id)!))
        .map((id) => `${id}: ${sessions.get(id) ?? 0} sessions`),
    };
  } finally {
    await db.end();
  }
}
