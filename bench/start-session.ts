// StartSession against the physical limit: raw argon2id verifies/s with @node-rs/argon2 and the
// same parameters (production: m=19456 KiB, t=2, p=1), at the same concurrency, in this same
// process, so on the same libuv thread pool (UV_THREADPOOL_SIZE as set, default 4).
// session-service and user-service both run in-process over real gRPC on loopback, each on a fresh
// migrated Postgres schema; session-service reaches VerifyCredentials through its gRPC client
// adapter, as in production. The users are seeded with one production-parameter hash, spread over
// --users accounts so per-user locking and the 10-sessions cap stay as they would with real users.
// Runs alternate (raw verify, the pair with verification stubbed, the real pair); the verdict
// compares medians. The stubbed pair answers VerifyCredentials without argon2: what a sign-in costs
// besides the verification, on the same CPUs the verification needs. Target: >= 0.8 x.
// --request-ids: every sign-in carries a fresh request_id (the idempotency record's claim and its
// stored answer, written with the session); without it none does, as before.
//   npx tsx bench/start-session.ts [--concurrency 16] [--seconds 4] [--rounds 3] [--users 256] [--request-ids]
import { uuidv7 } from '../libs/events/src/index.js';
import { registerUser } from '../services/user-service/src/domain/user.js';
import { rawHash, rawVerify } from './lib/argon2.js';
import { closedLoopArgs, compare, machine, type Target } from './lib/closed-loop.js';
import {
  gatewayClients,
  startSessionService,
  startUserService,
  type SessionService,
  type UserService,
} from './lib/services.js';

const requestIds = process.argv.includes('--request-ids');
if (requestIds) process.argv.splice(process.argv.indexOf('--request-ids'), 1);
const { run, values } = closedLoopArgs({
  concurrency: '16',
  seconds: '4',
  rounds: '3',
  users: '256',
});
const userCount = Number(values.users);
const PASSWORD = 'bench password 0123';
const HASH = await rawHash(PASSWORD);
const emailOf = (i: number) => `login${i}@example.com`;

/** Puts the accounts straight into user-service's tables (with their outbox rows), as RegisterUser would. */
async function seedUsers(user: UserService): Promise<void> {
  const now = new Date();
  for (let i = 0; i < userCount; i++)
    await user.users.add(
      registerUser({
        id: uuidv7(),
        email: emailOf(i),
        displayName: 'Bench',
        passwordHash: HASH,
        now,
      }),
    );
}

const started: Array<UserService | SessionService> = [];
const clients: Array<{ close(): void }> = [];
try {
  const user = await startUserService();
  started.push(user);
  const session = await startSessionService({ userService: user.address });
  started.push(session);
  const stubbedUser = await startUserService({
    hasher: {
      hash: async () => HASH,
      verify: async (_password, hash) => hash !== undefined,
      needsRehash: () => false,
    },
  });
  started.push(stubbedUser);
  const stubbedSession = await startSessionService({ userService: stubbedUser.address });
  started.push(stubbedSession);
  await seedUsers(user);
  await seedUsers(stubbedUser);
  const client = gatewayClients({ session: session.address });
  const stubbedClient = gatewayClients({ session: stubbedSession.address });
  clients.push(client, stubbedClient);
  let next = 0;
  const signIn = (c: typeof client) => () =>
    c.startSession({
      email: emailOf(next++ % userCount),
      password: PASSWORD,
      client: { ipAddress: '127.0.0.1', userAgent: 'bench/1.0' },
      requestId: requestIds ? `bench-${next}-${Math.random().toString(36).slice(2)}` : '',
    });
  const targets: Target[] = [
    { name: 'raw argon2id verify', op: () => rawVerify(HASH, PASSWORD) },
    { name: 'StartSession, verify stubbed', op: signIn(stubbedClient) },
    { name: 'StartSession', op: signIn(client) },
  ];
  console.log(
    `StartSession vs raw argon2id verifies (m=19456,t=2,p=1): ${run.concurrency} concurrent callers, ${run.rounds} alternating rounds of ${run.runMs / 1000}s, ${userCount} users, ${requestIds ? 'a request_id per sign-in' : 'no request_id'}`,
  );
  console.log(`machine: ${machine()}`);
  const { met } = await compare({
    ...run,
    targets,
    unit: 'op',
    what: 'StartSession',
    limitName: 'raw argon2id verifies/s',
    target: 0.8,
    async afterRounds() {
      const { rows } = await session.db.pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM sessions',
      );
      console.log(`(${rows[0]!.n} sessions started in schema ${session.db.schema})`);
    },
  });
  process.exitCode = met ? 0 : 1;
} finally {
  for (const c of clients) c.close();
  for (const service of started.reverse()) await service.stop();
}
process.exit();
