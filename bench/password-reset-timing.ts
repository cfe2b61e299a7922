// RequestPasswordReset must not tell whether an email is registered: an unknown email does the same
// work (a code made and hashed, the same one SQL statement, an answer of the same shape with an empty
// code), so it must take the same time. user-service runs in-process as main.ts builds it, over real
// gRPC on loopback, on a fresh migrated Postgres schema seeded with --users active users. Rounds
// alternate between known emails and unknown ones (each target cycles through its own emails, so
// every call replaces a code for the known ones); the verdict compares medians of throughput and of
// p50 latency. Target: unknown / known within 10 % (0.90 .. 1.10).
//   npx tsx bench/password-reset-timing.ts [--concurrency 8] [--seconds 4] [--rounds 5] [--users 2000]
import { randomUUID } from 'node:crypto';
import { callUnary, createClient } from '@warden/grpc';
import { userv1 } from '../libs/proto/src/index.js';
import { registerUser } from '../services/user-service/src/domain/user.js';
import { alternate, closedLoopArgs, machine, summary, type Target } from './lib/closed-loop.js';
import { KEYS, startUserService } from './lib/services.js';

const { run, values } = closedLoopArgs({
  concurrency: '8',
  seconds: '4',
  rounds: '5',
  users: '2000',
});
const USERS = Number(values.users);

const service = await startUserService();
const client = createClient(userv1.UserServiceClient, {
  address: service.address,
  serviceKey: KEYS.gateway,
});
try {
  // Seeded straight into the table (one statement a thousand): registration is not what is measured.
  const now = new Date();
  const known = Array.from({ length: USERS }, (_, i) => `known-${i}@example.com`);
  for (let at = 0; at < USERS; at += 1000) {
    await service.users.addMany(
      known.slice(at, at + 1000).map((email) =>
        registerUser({
          id: randomUUID(),
          email,
          displayName: 'Bench',
          passwordHash:
            '$argon2id$v=19$m=19456,t=2,p=1$c2VlZGVkc2VlZGVk$c2VlZGVkc2VlZGVkc2VlZGVkc2VlZGVkc2VlZA',
          now,
        }),
      ),
    );
  }
  const unknown = Array.from({ length: USERS }, (_, i) => `unknown-${i}@example.com`);
  let empty = 0;
  let issued = 0;
  const request = (emails: string[]) => {
    let next = 0;
    return async () => {
      const response = await callUnary(client.requestPasswordReset, client, {
        email: emails[next++ % emails.length]!,
      });
      if (response.code === '') empty++;
      else issued++;
    };
  };
  const targets: Target[] = [
    { name: 'RequestPasswordReset, known emails', op: request(known) },
    { name: 'RequestPasswordReset, unknown emails', op: request(unknown) },
  ];
  console.log(
    `RequestPasswordReset: known vs unknown emails (${USERS} registered), ${run.concurrency} concurrent callers, ${run.rounds} alternating rounds of ${run.runMs / 1000}s`,
  );
  console.log(`machine: ${machine()}`);
  const results = await alternate({ ...run, targets, warmupMs: 1_000, unit: 'op' });
  const [knownMedian, unknownMedian] = results.map(summary) as [
    ReturnType<typeof summary>,
    ReturnType<typeof summary>,
  ];
  const rpsRatio = unknownMedian.rps / knownMedian.rps;
  const p50Ratio = unknownMedian.p50 / knownMedian.p50;
  const within = (r: number) => r >= 0.9 && r <= 1.1;
  const clean = knownMedian.errors === 0 && unknownMedian.errors === 0;
  const met = clean && within(rpsRatio) && within(p50Ratio);
  console.log(`\nmedian of ${run.rounds} rounds`);
  console.log(
    `known   ${knownMedian.rps.toFixed(0)} op/s  p50 ${knownMedian.p50.toFixed(2)} ms  p99 ${knownMedian.p99.toFixed(2)} ms`,
  );
  console.log(
    `unknown ${unknownMedian.rps.toFixed(0)} op/s  p50 ${unknownMedian.p50.toFixed(2)} ms  p99 ${unknownMedian.p99.toFixed(2)} ms`,
  );
  console.log(`answers: ${issued} codes issued (known), ${empty} empty codes (unknown)`);
  console.log(
    `unknown / known: throughput ${rpsRatio.toFixed(3)} x, p50 ${p50Ratio.toFixed(3)} x (target 0.90..1.10): ${met ? 'MET' : clean ? 'NOT MET' : 'INVALID (errors)'}   [${machine()}]`,
  );
  process.exitCode = met ? 0 : 1;
} finally {
  client.close();
  await service.stop();
}
process.exit();
