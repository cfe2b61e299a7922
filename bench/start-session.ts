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
// After the verdict: the CPU a sign-in costs besides argon2, against what 0.8 x leaves for it.
// --interference: two more targets with argon2id at m=1 MiB, t=38 (the same KiB x passes, in a
// working set a core's L2 holds): raw, and a third pair of services verifying with it. Next to the
// stubbed run they split what argon2's company adds to the rest of a sign-in into what any busy
// thread adds and what its 19 MiB add. The verdict is unchanged: production parameters only.
//   npx tsx bench/start-session.ts [--concurrency 16] [--seconds 4] [--rounds 3] [--users 256] [--request-ids] [--interference]
import { uuidv7 } from '../libs/events/src/index.js';
import { registerUser } from '../services/user-service/src/domain/user.js';
import { Argon2PasswordHasher } from '../services/user-service/src/adapters/crypto/argon2-password-hasher.js';
import { PRODUCTION_ARGON2, rawHash, rawVerify } from './lib/argon2.js';
import {
  closedLoopArgs,
  compare,
  machine,
  summary,
  type Result,
  type Target,
} from './lib/closed-loop.js';
import {
  gatewayClients,
  startSessionService,
  startUserService,
  type SessionService,
  type UserService,
} from './lib/services.js';

/** A flag of this script's own, taken off argv before closedLoopArgs parses the rest. */
function flag(name: string): boolean {
  const at = process.argv.indexOf(name);
  if (at !== -1) process.argv.splice(at, 1);
  return at !== -1;
}
const requestIds = flag('--request-ids');
const interference = flag('--interference');
const { run, values } = closedLoopArgs({
  concurrency: '16',
  seconds: '4',
  rounds: '3',
  users: '256',
});
const userCount = Number(values.users);
const PASSWORD = 'bench password 0123';
const HASH = await rawHash(PASSWORD);
/** argon2id with as many KiB x passes as production's (19456 x 2), in 1 MiB: --interference. */
const L2_SIZED = {
  memoryKib: 1024,
  iterations: (PRODUCTION_ARGON2.memoryKib * 2) / 1024,
  parallelism: 1,
};
const emailOf = (i: number) => `login${i}@example.com`;

/** Puts the accounts straight into user-service's tables (with their outbox rows), as RegisterUser would. */
async function seedUsers(user: UserService, passwordHash = HASH): Promise<void> {
  const now = new Date();
  for (let i = 0; i < userCount; i++)
    await user.users.add(
      registerUser({
        id: uuidv7(),
        email: emailOf(i),
        displayName: 'Bench',
        passwordHash,
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
  const lightTargets: Target[] = [];
  if (interference) {
    const lightHash = await rawHash(PASSWORD, L2_SIZED);
    const lightUser = await startUserService({
      hasher: await Argon2PasswordHasher.create(L2_SIZED),
    });
    started.push(lightUser);
    const lightSession = await startSessionService({ userService: lightUser.address });
    started.push(lightSession);
    await seedUsers(lightUser, lightHash);
    const lightClient = gatewayClients({ session: lightSession.address });
    clients.push(lightClient);
    lightTargets.push(
      { name: 'raw argon2id verify, 1 MiB', op: () => rawVerify(lightHash, PASSWORD) },
      { name: 'StartSession, 1 MiB argon2id', op: signIn(lightClient) },
    );
  }
  const targets: Target[] = [
    { name: 'raw argon2id verify', op: () => rawVerify(HASH, PASSWORD) },
    { name: 'StartSession, verify stubbed', op: signIn(stubbedClient) },
    ...lightTargets,
    { name: 'StartSession', op: signIn(client) },
  ];
  console.log(
    `StartSession vs raw argon2id verifies (m=19456,t=2,p=1): ${run.concurrency} concurrent callers, ${run.rounds} alternating rounds of ${run.runMs / 1000}s, ${userCount} users, ${requestIds ? 'a request_id per sign-in' : 'no request_id'}`,
  );
  console.log(`machine: ${machine()}`);
  const { met, results } = await compare({
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
  report(results.map(summary));
  process.exitCode = met ? 0 : 1;
} finally {
  for (const c of clients) c.close();
  for (const service of started.reverse()) await service.stop();
}
process.exit();

/**
 * What a sign-in costs besides argon2, against what 0.8 x leaves for it: CPU per call of this
 * process's threads and Postgres, less the raw run's (argon2 and its driving), against the raw
 * run's CPU x (1 / 0.8 - 1). With --interference, the same for the 1 MiB pair, and the main
 * thread's CPU per sign-in next to the stubbed run's: what argon2's company adds to it.
 */
function report(medians: Result[]): void {
  const total = (r: Result) => r.cpu.main + r.cpu.threads + r.cpu.postgres;
  const [raw, stubbed] = [medians[0]!, medians[1]!];
  const service = medians.at(-1)!;
  const beyond = (limit: Result, r: Result) =>
    `${(total(r) - total(limit)).toFixed(2)} ms of CPU per sign-in besides argon2 (0.8 x leaves ${(total(limit) * (1 / 0.8 - 1)).toFixed(2)} ms), main thread ${r.cpu.main.toFixed(2)} ms`;
  console.log(
    `StartSession: ${beyond(raw, service)}; with verification stubbed ${total(stubbed).toFixed(2)} ms, main thread ${stubbed.cpu.main.toFixed(2)} ms`,
  );
  if (!interference) return;
  const [lightRaw, light] = [medians[2]!, medians[3]!];
  console.log(
    `StartSession with 1 MiB argon2id = ${(light.rps / lightRaw.rps).toFixed(2)} x its raw verifies/s: ${beyond(lightRaw, light)}`,
  );
}
