// RegisterUser against the physical limit: raw argon2id hashes/s with @node-rs/argon2 and the same
// parameters (production: m=19456 KiB, t=2, p=1), at the same concurrency, in this same process, so
// on the same libuv thread pool (UV_THREADPOOL_SIZE as set, default 4). user-service runs
// in-process over real gRPC on loopback, on a fresh migrated Postgres schema. Runs alternate
// (raw argon2, user-service with hashing stubbed, user-service); the verdict compares medians.
// The stubbed run is user-service with a constant instead of argon2 (on a schema of its own):
// what a registration costs besides the hash, on the same CPUs the hash needs. Target: >= 0.8 x.
//   npx tsx bench/register-user.ts [--concurrency 16] [--seconds 4] [--rounds 3]
import { rawHash } from './lib/argon2.js';
import { closedLoopArgs, compare, machine, type Target } from './lib/closed-loop.js';
import { gatewayClients, startUserService } from './lib/services.js';

const { run } = closedLoopArgs({ concurrency: '16', seconds: '4', rounds: '3' });
const PASSWORD = 'bench password 0123';

const STUB_HASH = await rawHash(PASSWORD);
const user = await startUserService();
const stubbed = await startUserService({
  hasher: { hash: async () => STUB_HASH, verify: async () => false, needsRehash: () => false },
});
const client = gatewayClients({ user: user.address });
const stubbedClient = gatewayClients({ user: stubbed.address });
let registered = 0;
try {
  const targets: Target[] = [
    { name: 'raw argon2id hash', op: () => rawHash(PASSWORD) },
    {
      name: 'RegisterUser, hash stubbed',
      op: () =>
        stubbedClient.registerUser({
          email: `bench${++registered}@example.com`,
          password: PASSWORD,
          displayName: 'Bench User',
          requestId: '',
        }),
    },
    {
      name: 'RegisterUser',
      op: () =>
        client.registerUser({
          email: `bench${++registered}@example.com`,
          password: PASSWORD,
          displayName: 'Bench User',
          requestId: '',
        }),
    },
  ];
  console.log(
    `RegisterUser vs raw argon2id hashes (m=19456,t=2,p=1): ${run.concurrency} concurrent callers, ${run.rounds} alternating rounds of ${run.runMs / 1000}s`,
  );
  console.log(`machine: ${machine()}`);
  const { met } = await compare({
    ...run,
    targets,
    unit: 'op',
    what: 'RegisterUser',
    limitName: 'raw argon2id hashes/s',
    target: 0.8,
    async afterRounds() {
      const { rows } = await user.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM users');
      console.log(`(${rows[0]!.n} users registered in schema ${user.db.schema})`);
    },
  });
  process.exitCode = met ? 0 : 1;
} finally {
  client.close();
  stubbedClient.close();
  await user.stop();
  await stubbed.stop();
}
process.exit();
