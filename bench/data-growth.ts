// Cost as the data grows: the same operations on an almost empty database and on one holding a
// real user base (default 1M users, 5 sessions each of which 20% active), in one run, alternating.
// Both are user-service + session-service as bench/lib/services.ts builds them (in this process,
// over real gRPC on loopback, each pair on fresh schemas of its own in the test database), seeded
// straight into their tables with generate_series, then vacuumed and checkpointed: the same shape
// on both sides, only the count differs. The small side keeps --small-users (default 12,000) so a page 10k users deep exists.
// Per operation: requests/s small and large (median of alternating rounds), their ratio and the
// verdict: large >= 1/1.5 x small per call, >= 1/2 x for the expiry sweeper's sessions/s. The
// EXPLAIN (ANALYZE, BUFFERS) of the statement behind each row that misses is printed. So are, for
// every row, the plans of its statement over PLAN_DRAWS fresh draws of its parameters on the large
// side: a plan that changes on a few calls (as the email prefix's did on 1.2 % of them) moves a
// median little and one EXPLAIN not at all. The schemas are dropped at the end.
//   npx tsx bench/data-growth.ts [--users 1000000] [--small-users 12000] [--seconds 2] [--rounds 3] [--concurrency 8] [--only <row name part>]
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { callUnary, createClient } from '@warden/grpc';
import { sessionv1, userv1 } from '../libs/proto/src/index.js';
import { ExpireSessionsHandler } from '../services/session-service/src/application/commands/expire-sessions.js';
import {
  listActiveSql,
  lockUserSessionsSql,
  SESSION_BY_TOKEN_SQL,
  SESSIONS_DUE_SQL,
} from '../services/session-service/src/adapters/prisma/session-sql.js';
import { PrismaUserDirectory } from '../services/user-service/src/adapters/prisma/prisma-user-directory.js';
import { USER_BY_EMAIL_SQL } from '../services/user-service/src/adapters/prisma/user-sql.js';
import type { UserCursor, UserListFilter } from '../services/user-service/src/application/ports.js';
import { rawHash } from './lib/argon2.js';
import { alternate, closedLoopArgs, machine, summary, type Target } from './lib/closed-loop.js';
import {
  KEYS,
  startSessionService,
  startUserService,
  type SessionService,
  type UserService,
} from './lib/services.js';

const { run, values } = closedLoopArgs({
  concurrency: '8',
  seconds: '2',
  rounds: '3',
  users: '1000000',
  'small-users': '12000',
  only: '',
});
const LARGE_USERS = Number(values.users);
const SMALL_USERS = Number(values['small-users']);
const SESSIONS_PER_USER = 5;
/**
 * Sessions the sweeper expires per run and side (its batch is config.yaml's 500); the warm-up and
 * every round take this many of the small side's active sessions.
 */
const SWEEP_PER_ROUND = 2_000;
const SWEEPER_BATCH = 500;
const PER_CALL_TARGET = 1 / 1.5;
const SWEEPER_TARGET = 1 / 2;
const PASSWORD = 'data growth password 0123';
/**
 * Accounts StartSession signs in to, in turn: lockout admits a few checks of one email at a time
 * (each holds a failure slot until it passes), so one account would refuse concurrent sign-ins.
 */
const SIGN_IN_USERS = 64;
/** Disabled users on each side (ListUsers by status). */
const DISABLED_USERS = 100;
/** Draws of a row's parameters whose plans are counted (EXPLAIN without ANALYZE: a few ms in all). */
const PLAN_DRAWS = 50;
let signIns = 0;

/** Session g's token, as SQL and JS both make it: `wst_` + base64url(sha256('seed-<g>')). */
const seedToken = (g: number): string =>
  'wst_' + createHash('sha256').update(`seed-${g}`).digest('base64url');
const TOKEN_SQL = (g: string) =>
  `'wst_' || rtrim(translate(encode(sha256(convert_to('seed-' || ${g}, 'UTF8')), 'base64'), '+/', '-_'), '=')`;
const userIdSql = (n: string) => `md5('user-' || ${n})::uuid`;

interface Side {
  name: string;
  users: number;
  user: UserService;
  session: SessionService;
  userClient: userv1.UserServiceClient;
  sessionClient: sessionv1.SessionServiceClient;
  /** Seeded users whose one active session EndUserSessions has not ended yet. */
  nextUserToEnd: number;
}

/**
 * Users 1..n (create_time one second apart), each with 5 sessions (the 5th active, the others
 * ended or expired, all in the past), straight into the tables; then one user with 10 active
 * sessions (ListActiveSessions) and the accounts StartSession signs in to. ANALYZE after.
 */
async function seed(side: Side, passwordHash: string): Promise<void> {
  const n = side.users;
  const users = side.user.db.pool;
  const sessions = side.session.db.pool;
  const usersDone = bulkLoad(users, 'users', (client) =>
    client.query(
      `INSERT INTO users (id, email, display_name, password_hash, status, create_time, update_time)
     SELECT ${userIdSql('g')}, 'user' || g || '@example.com', 'User ' || g, $1, 'ACTIVE',
            now() - make_interval(secs => $2::int - g), now() - make_interval(secs => $2::int - g)
     FROM generate_series(1, $2::int) AS g`,
      ['seeded: no password', n],
    ),
  );
  // Session g belongs to user ((g - 1) % n) + 1; g % 5 = 0 is active, the rest ended long ago.
  const sessionsDone = bulkLoad(sessions, 'sessions', (client) =>
    client.query(
      `INSERT INTO sessions (id, user_id, token_hash, status, create_time, expire_time,
                           idle_expire_time, last_seen_time, end_time, end_reason, ip_address, user_agent)
     SELECT md5('session-' || g)::uuid, ${userIdSql('((g - 1) % $1::int) + 1')},
            encode(sha256(convert_to(${TOKEN_SQL('g')}, 'UTF8')), 'hex'),
            CASE WHEN g % 5 = 0 THEN 'ACTIVE' WHEN g % 5 = 1 THEN 'EXPIRED' ELSE 'ENDED' END::"SessionStatus",
            t, CASE WHEN g % 5 = 0 THEN now() + interval '20 hours' ELSE t + interval '1 day' END,
            CASE WHEN g % 5 = 0 THEN now() + interval '25 minutes' ELSE t + interval '30 minutes' END,
            CASE WHEN g % 5 = 0 THEN now() - interval '1 minute' ELSE t END,
            CASE WHEN g % 5 = 0 THEN NULL ELSE t + interval '10 minutes' END,
            CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN 'IDLE_TIMEOUT' ELSE 'LOGOUT' END::"SessionEndReason",
            '10.0.0.1', 'seed/1.0'
     FROM generate_series(1, $1::int * ${SESSIONS_PER_USER}) AS g,
          LATERAL (SELECT CASE WHEN g % 5 = 0 THEN now() - interval '2 hours'
                               ELSE now() - make_interval(days => 1 + g % 20) END AS t) AS times`,
      [n],
    ),
  );
  await Promise.all([usersDone, sessionsDone]);
  // DISABLED_USERS disabled users spread evenly over the registration order: as many on both
  // sides, so a page of them is the same question (a rare status among 1M, a common one at 12k).
  await users.query(
    `UPDATE users SET status = 'DISABLED'
     WHERE email IN (SELECT 'user' || (g * ($1::int / $2::int)) || '@example.com'
                     FROM generate_series(1, $2::int) AS g)`,
    [n, DISABLED_USERS],
  );
  // The user with ten active sessions, and the accounts StartSession signs in to.
  await sessions.query(
    `INSERT INTO sessions (id, user_id, token_hash, status, create_time, expire_time,
                           idle_expire_time, last_seen_time, ip_address, user_agent)
     SELECT md5('ten-' || i)::uuid, md5('ten-sessions')::uuid, md5('ten-token-' || i), 'ACTIVE',
            now() - make_interval(mins => i), now() + interval '20 hours',
            now() + interval '25 minutes', now(), '10.0.0.1', 'seed/1.0'
     FROM generate_series(1, 10) AS i`,
  );
  await users.query(
    `INSERT INTO users (id, email, display_name, password_hash, status, create_time, update_time)
     SELECT gen_random_uuid(), 'signin' || i || '@example.com', 'Sign In', $1, 'ACTIVE', now(), now()
     FROM generate_series(0, ${SIGN_IN_USERS - 1}) AS i`,
    [passwordHash],
  );
  // A database at its steady state has been vacuumed and checkpointed: hint bits and the
  // visibility map set, so a row's first read does not write its page, and shared buffers clean,
  // so a read does not first write out the bulk load's dirty pages. Left to the rounds, both taxed
  // the large side's reads (its pages read for the first time, the small side's long since).
  await Promise.all([users.query('VACUUM (ANALYZE)'), sessions.query('VACUUM (ANALYZE)')]);
  await users.query('CHECKPOINT');
}

/**
 * A bulk insert the way a restore does it: the table's secondary indexes (not its primary key)
 * dropped first and built once at the end, which is minutes faster than maintaining them row by
 * row for millions of rows. The indexes come back exactly as the migrations made them.
 */
async function bulkLoad(
  pool: pg.Pool,
  table: string,
  insert: (client: pg.PoolClient) => Promise<unknown>,
): Promise<void> {
  const client = await pool.connect();
  try {
    const { rows: indexes } = await client.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename = $1
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)`,
      [table],
    );
    for (const index of indexes) await client.query(`DROP INDEX "${index.name}"`);
    await client.query("SET maintenance_work_mem = '256MB'");
    await client.query('SET synchronous_commit = off');
    await insert(client);
    for (const index of indexes) await client.query(index.definition);
  } finally {
    client.release(true);
  }
}

/**
 * `count` sessions made due for the sweeper's next round: new ACTIVE sessions of seeded users whose
 * idle expiry has passed, as a user's abandoned sign-ins are. New rows, so the other rows (which
 * end seeded sessions as they go) cannot run the sweeper out of work.
 */
async function makeDue(side: Side, count: number): Promise<void> {
  const { rowCount } = await side.session.db.pool.query(
    `INSERT INTO sessions (id, user_id, token_hash, status, create_time, expire_time,
                           idle_expire_time, last_seen_time, ip_address, user_agent)
     SELECT gen_random_uuid(), ${userIdSql('1 + floor(random() * $2::int)::int')},
            md5(random()::text || clock_timestamp()::text || i), 'ACTIVE',
            now() - interval '2 hours', now() + interval '20 hours',
            now() - interval '1 hour', now() - interval '90 minutes', '10.0.0.1', 'due/1.0'
     FROM generate_series(1, $1::int) AS i`,
    [count, side.users],
  );
  if (rowCount !== count)
    throw new Error(`${side.name}: ${rowCount} sessions made due, not ${count}`);
}

const random = (n: number) => 1 + Math.floor(Math.random() * n);

/** A statement to EXPLAIN, on the pool of the schema it reads. */
interface Statement {
  pool: pg.Pool;
  sql: string;
  params: unknown[];
}

/** The rows: each an operation per side, and the statement to EXPLAIN on the large side. */
interface Row {
  name: string;
  unit: string;
  target: number;
  /** Callers at once; the sweeper is one loop per worker. Default --concurrency. */
  concurrency?: number;
  /** What one completed op counts for (a full sweeper batch: its size). */
  perOp?: number;
  op(side: Side): () => Promise<unknown>;
  prepare?(side: Side): Promise<void>;
  explain?(side: Side): Statement | Promise<Statement>;
}

/** The token of a random active seeded session: never validated before, so the cache is cold. */
const coldToken = (side: Side) => seedToken(5 * random(side.users));
const sweepers = new Map<Side, ExpireSessionsHandler>();
const pageTokens = new Map<Side, string>();

const rows: Row[] = [
  {
    name: 'ValidateSession, cold cache',
    unit: 'req',
    target: PER_CALL_TARGET,
    op: (side) => () =>
      callUnary(
        side.sessionClient.validateSession,
        side.sessionClient,
        sessionv1.ValidateSessionRequest.fromPartial({ token: coldToken(side) }),
      ),
    explain: (side) => ({
      pool: side.session.db.pool,
      sql: SESSION_BY_TOKEN_SQL,
      params: [createHash('sha256').update(coldToken(side)).digest('hex')],
    }),
  },
  {
    name: 'StartSession',
    unit: 'req',
    target: PER_CALL_TARGET,
    op: (side) => () =>
      callUnary(
        side.sessionClient.startSession,
        side.sessionClient,
        sessionv1.StartSessionRequest.fromPartial({
          email: `signin${signIns++ % SIGN_IN_USERS}@example.com`,
          password: PASSWORD,
          client: { ipAddress: '127.0.0.1', userAgent: 'bench/1.0' },
        }),
      ),
    explain: (side) => ({
      pool: side.user.db.pool,
      sql: USER_BY_EMAIL_SQL,
      params: ['signin0@example.com'],
    }),
  },
  {
    name: 'ListActiveSessions, 10 sessions',
    unit: 'req',
    target: PER_CALL_TARGET,
    op: (side) => {
      const userId = tenSessionsUser(side);
      return () =>
        callUnary(
          side.sessionClient.listActiveSessions,
          side.sessionClient,
          sessionv1.ListActiveSessionsRequest.fromPartial({ userId, pageSize: 10 }),
        );
    },
    explain: (side) => ({
      pool: side.session.db.pool,
      sql: listActiveSql(false),
      params: [tenSessionsUser(side), new Date(), 11],
    }),
  },
  {
    name: 'ListUsers, first page',
    unit: 'req',
    target: PER_CALL_TARGET,
    op: (side) => () => listUsers(side, { pageSize: 50 }),
    explain: (side) => listUsersExplain(side, {}),
  },
  {
    name: 'ListUsers, 10k users deep',
    unit: 'req',
    target: PER_CALL_TARGET,
    async prepare(side) {
      if (pageTokens.has(side)) return;
      let token = '';
      // Page by page (bounded) to the 10,000th user: the token a client would hold there.
      for (let seen = 0, page = 0; seen < 10_000 && page < 10_000; page++) {
        const response = await listUsers(side, { pageSize: 100, pageToken: token });
        seen += response.users.length;
        token = response.nextPageToken;
      }
      pageTokens.set(side, token);
    },
    op: (side) => () => listUsers(side, { pageSize: 50, pageToken: pageTokens.get(side)! }),
    explain: (side) => listUsersExplain(side, { depth: 10_000 }),
  },
  {
    name: 'ListUsers, email prefix',
    unit: 'req',
    target: PER_CALL_TARGET,
    // The same question on both sides: a prefix matching 111 users (see prefixOf111). A prefix's
    // cost follows how many users it matches (the planner reads them by the pattern index and
    // keeps the first 50 by id, or walks the id order when they are many). The earlier
    // user<1..n/100> matched 1.8 x more users on the large side on average (400 against 219),
    // and up to 111,111 (user1..user9) against 3,111.
    op: (side) => () => listUsers(side, { pageSize: 50, emailPrefix: prefixOf111(side.users) }),
    explain: (side) => listUsersExplain(side, { emailPrefix: prefixOf111(side.users) }),
  },
  {
    name: 'ListUsers, disabled users',
    unit: 'req',
    target: PER_CALL_TARGET,
    // The first page of the DISABLED_USERS disabled users: 100 of 12k on the small side, 100 of
    // 1M on the large one (users_status_create_time_id_idx; without it, a walk of the id order).
    op: (side) => () =>
      listUsers(side, {
        pageSize: 50,
        status: userv1.UserStatus.USER_STATUS_DISABLED,
      }),
    explain: (side) => listUsersExplain(side, { status: 'DISABLED' }),
  },
  {
    name: 'EndUserSessions',
    unit: 'req',
    target: PER_CALL_TARGET,
    op: (side) => () => {
      const n = side.nextUserToEnd++;
      if (n > side.users) return Promise.resolve(false);
      return callUnary(
        side.sessionClient.endUserSessions,
        side.sessionClient,
        sessionv1.EndUserSessionsRequest.fromPartial({ userId: userIdOf(n) }),
      );
    },
    explain: (side) => ({
      pool: side.session.db.pool,
      sql: `BEGIN; ${lockUserSessionsSql(userIdOf(side.users))}; ROLLBACK`,
      params: [],
    }),
  },
  {
    name: 'expiry sweeper',
    unit: 'session',
    target: SWEEPER_TARGET,
    concurrency: 1,
    // makeDue makes whole batches due, so every batch it finds is full.
    perOp: SWEEPER_BATCH,
    prepare: (side) => makeDue(side, SWEEP_PER_ROUND),
    op: (side) => async () => {
      const expired = await sweepers.get(side)!.execute();
      if (expired !== 0 && expired !== SWEEPER_BATCH)
        throw new Error(`a sweeper batch of ${expired}, not ${SWEEPER_BATCH}`);
      return expired === 0 ? false : expired;
    },
    explain: (side) => ({
      pool: side.session.db.pool,
      sql: SESSIONS_DUE_SQL,
      params: [new Date(), new Date(), SWEEPER_BATCH],
    }),
  },
];

/**
 * A random email prefix `user<k>` matching exactly 111 of users 1..n: user<k>, user<k>0..9 and
 * user<k>00..99, with k chosen so those all exist (100k + 99 <= n) and user<k>000 does not
 * (1000k > n). n = 12,000: k in 13..119; n = 1M: k in 1001..9999.
 */
function prefixOf111(n: number): string {
  const low = Math.floor(n / 1000) + 1;
  const high = Math.floor((n - 99) / 100);
  return `user${low + Math.floor(Math.random() * (high - low + 1))}`;
}

const userIdOf = (n: number) => md5Uuid(`user-${n}`);
const tenSessionsUser = (_side: Side) => md5Uuid('ten-sessions');
function md5Uuid(text: string): string {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One ListUsers call of a side's gateway client. */
const listUsers = (side: Side, request: Partial<userv1.ListUsersRequest>) =>
  callUnary(
    side.userClient.listUsers,
    side.userClient,
    userv1.ListUsersRequest.fromPartial(request),
  );

/**
 * The statement ListUsers has PrismaUserDirectory send for `filter` (a page of 50, so 51 rows
 * read; `depth`: the page after that many users), captured rather than sent, for EXPLAIN.
 */
async function listUsersExplain(
  side: Side,
  filter: Partial<UserListFilter> & { depth?: number },
): Promise<Statement> {
  const { pool } = side.user.db;
  const { depth, ...rest } = filter;
  let after: UserCursor | undefined;
  if (depth !== undefined) {
    const { rows } = await pool.query<{ create_time: Date; id: string }>(
      'SELECT create_time, id FROM users ORDER BY create_time, id OFFSET $1 LIMIT 1',
      [depth - 1],
    );
    after = { createTime: rows[0]!.create_time, id: rows[0]!.id };
  }
  let sent: Statement | undefined;
  const capture = {
    query: async (sql: string, params: unknown[]) => {
      sent = { pool, sql, params };
      return { rows: [] };
    },
  };
  await new PrismaUserDirectory(capture as unknown as pg.Pool).list(
    { emailPrefix: '', ...rest },
    after,
    51,
  );
  return sent!;
}

async function startSide(name: string, users: number, passwordHash: string): Promise<Side> {
  const user = await startUserService();
  const session = await startSessionService({ userService: user.address }).catch(
    async (error: unknown) => {
      await user.stop();
      throw error;
    },
  );
  const side: Side = {
    name,
    users,
    user,
    session,
    userClient: createClient(userv1.UserServiceClient, {
      address: user.address,
      serviceKey: KEYS.gateway,
    }),
    sessionClient: createClient(sessionv1.SessionServiceClient, {
      address: session.address,
      serviceKey: KEYS.gateway,
    }),
    nextUserToEnd: 1,
  };
  sweepers.set(
    side,
    new ExpireSessionsHandler({
      sessions: session.sessions,
      clock: { now: () => new Date() },
      batchSize: SWEEPER_BATCH,
      idleGraceMs: 0,
    }),
  );
  const began = performance.now();
  await seed(side, passwordHash);
  const { rows: sizes } = await session.db.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM sessions',
  );
  console.log(
    `${name}: ${users} users, ${sizes[0]!.n} sessions seeded in ${((performance.now() - began) / 1000).toFixed(1)} s (schemas ${user.db.schema}, ${session.db.schema})`,
  );
  return side;
}

const rssMb = () => process.memoryUsage().rss / 1024 / 1024;
const sides: Side[] = [];
let failed = false;
try {
  console.log(
    `data growth: ${SMALL_USERS} vs ${LARGE_USERS} users, ${run.concurrency} concurrent callers, ${run.rounds} alternating rounds of ${run.runMs / 1000}s   [${machine()}]`,
  );
  const passwordHash = await rawHash(PASSWORD);
  sides.push(await startSide('small', SMALL_USERS, passwordHash));
  const rssSmall = rssMb();
  sides.push(await startSide('large', LARGE_USERS, passwordHash));
  const [small, large] = sides as [Side, Side];

  const report: string[] = [];
  const misses: Array<{ row: Row; explain: string }> = [];
  for (const row of rows) {
    if (values.only && !row.name.includes(values.only)) continue;
    console.log(`\n${row.name}`);
    const targets: Target[] = [small, large].map((side) => {
      const op = row.op(side);
      return {
        name: side.name,
        prepare: async () => row.prepare?.(side),
        op: () => op(),
      };
    });
    const results = await alternate({
      ...run,
      concurrency: row.concurrency ?? run.concurrency,
      targets,
      warmupMs: 500,
      unit: row.unit,
    });
    const [s, l] = results.map(summary) as [ReturnType<typeof summary>, ReturnType<typeof summary>];
    const rate = (r: typeof s) => r.rps * (row.perOp ?? 1);
    const ratio = rate(l) / rate(s);
    const clean = s.errors === 0 && l.errors === 0;
    const met = clean && ratio >= row.target;
    if (!met) failed = true;
    report.push(
      `${row.name.padEnd(34)} ${rate(s).toFixed(1).padStart(9)} ${rate(l).toFixed(1).padStart(9)} ${row.unit}/s  ${ratio.toFixed(2).padStart(5)} x  (>= ${row.target.toFixed(2)})  p99 ${s.p99.toFixed(1)} / ${l.p99.toFixed(1)} ms  ${met ? 'MET' : clean ? 'NOT MET' : 'INVALID (errors)'}`,
    );
    if (row.explain) {
      const shapes = await planShapes(async () => row.explain!(large));
      report.push(
        `${' '.repeat(34)} plans of ${PLAN_DRAWS} draws on the large side${shapes.length > 1 ? ', PLAN VARIES' : ''}:`,
        ...shapes.map(([shape, n]) => `${' '.repeat(36)}${n} x ${shape}`),
      );
    }
    if (!met && row.explain) {
      const { pool, sql, params } = await row.explain(large);
      misses.push({ row, explain: await explain(pool, sql, params) });
    }
  }
  const rssLarge = rssMb();
  console.log(`\n${'row'.padEnd(34)} ${'small'.padStart(9)} ${'large'.padStart(9)}`);
  for (const line of report) console.log(line);
  console.log(
    `RSS of this process (both user-service and session-service pairs, in-process): ${rssSmall.toFixed(0)} MB with the small side up, ${rssLarge.toFixed(0)} MB after every row on both`,
  );
  for (const { row, explain: plan } of misses)
    console.log(`\nEXPLAIN of ${row.name} (large side):\n${plan}`);
} finally {
  for (const side of sides) {
    side.userClient.close();
    side.sessionClient.close();
    await side.session.stop();
    await side.user.stop();
  }
}
process.exit(failed ? 1 : 0);

/**
 * `each` over every statement of `sql` (with `params`; the statements of BEGIN; ...; ROLLBACK, which
 * take none, inside a transaction rolled back after), on one connection.
 */
async function perStatement<T>(
  pool: pg.Pool,
  sql: string,
  params: unknown[],
  each: (client: pg.PoolClient, statement: string, params: unknown[]) => Promise<T>,
): Promise<T[]> {
  const client = await pool.connect();
  try {
    if (!sql.startsWith('BEGIN;')) return [await each(client, sql, params)];
    const statements = sql
      .slice('BEGIN;'.length, sql.lastIndexOf('; ROLLBACK'))
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    await client.query('BEGIN');
    const results: T[] = [];
    for (const statement of statements) results.push(await each(client, statement, []));
    await client.query('ROLLBACK');
    return results;
  } finally {
    client.release();
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of a statement (or of each statement in BEGIN; ...; ROLLBACK). */
async function explain(pool: pg.Pool, sql: string, params: unknown[]): Promise<string> {
  const plans = await perStatement(pool, sql, params, async (client, statement, values) => {
    const { rows: lines } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement}`,
      values,
    );
    return lines.map((line) => `  ${line['QUERY PLAN']}`).join('\n');
  });
  return plans.join('\n');
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/**
 * The plans (node types with their index or table, nested) of PLAN_DRAWS draws of a row's
 * statement, most frequent first, with how many draws each.
 */
async function planShapes(draw: () => Promise<Statement>): Promise<Array<[string, number]>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < PLAN_DRAWS; i++) {
    const { pool, sql, params } = await draw();
    const shapes = await perStatement(pool, sql, params, async (client, statement, values) => {
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (FORMAT JSON) ${statement}`,
        values,
      );
      return shapeOf(rows[0]!['QUERY PLAN'][0]!.Plan);
    });
    const shape = shapes.join('; ');
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function shapeOf(node: PlanNode): string {
  const on = node['Index Name'] ?? node['Relation Name'];
  const name = on ? `${node['Node Type']} ${on}` : node['Node Type'];
  const children = (node.Plans ?? []).map(shapeOf);
  return children.length ? `${name} (${children.join(', ')})` : name;
}
