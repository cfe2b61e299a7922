// CheckPermission, warm, against the physical limit: a no-op grpc-js unary handler driven by the
// same client at the same concurrency. Target: authz-service >= 0.85 x the no-op's requests/s.
// Runs alternate (no-op, kit no-op, authz) so load from elsewhere on the machine hits all alike;
// the verdict compares medians. "kit no-op" is the server kit around an empty handler: the part of
// the gap that is the shared kit's (identity, request id, trace, metrics), not authz's.
//   npx tsx bench/check-permission.ts [--concurrency 32] [--seconds 2] [--rounds 7] [--subjects 10000]
import { parseArgs } from 'node:util';
import {
  benchClient,
  startAuthzServer,
  startKitNoopServer,
  startNoopServer,
  type CheckRequest,
  type Running,
} from '../services/authz-service/test/support/bench-kit.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '7' },
    subjects: { type: 'string', default: '10000' },
  },
});
const concurrency = Number(values.concurrency);
const runMs = Number(values.seconds) * 1_000;
const rounds = Number(values.rounds);

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

/** `concurrency` callers in a closed loop for `ms`; the latency of every call, in ms. */
async function drive(address: string, requests: CheckRequest[], ms: number): Promise<Result> {
  const client = benchClient(address);
  const latencies: number[] = [];
  const deadline = performance.now() + ms;
  let next = 0;
  const caller = async () => {
    while (performance.now() < deadline) {
      const request = requests[next++ % requests.length]!;
      const started = performance.now();
      await client.check(request);
      latencies.push(performance.now() - started);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - began) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (results: Result[]): Result => ({
  rps: median(results.map((r) => r.rps)),
  p50: median(results.map((r) => r.p50)),
  p99: median(results.map((r) => r.p99)),
});
const format = (r: Result) =>
  `${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms`;

const authz = await startAuthzServer(Number(values.subjects));
const targets: Array<[string, Running]> = [
  ['no-op', await startNoopServer()],
  ['kit no-op', await startKitNoopServer()],
  ['authz', authz],
];
// A realistic mix: own-resource checks, plain grants, denials, inherited and wildcard grants.
const requests: CheckRequest[] = authz.userIds.slice(0, 2000).flatMap((userId, i) => [
  {
    subjectId: userId,
    permission: 'session.end',
    resource: { type: 'session', id: `s${i}`, ownerId: userId },
  },
  { subjectId: userId, permission: 'game.join', resource: { type: 'game', id: '', ownerId: '' } },
  {
    subjectId: userId,
    permission: 'user.disable',
    resource: { type: 'user', id: userId, ownerId: userId },
  },
  { subjectId: userId, permission: 'chat.mute', resource: undefined },
]);

console.log(
  `CheckPermission, warm: ${concurrency} concurrent callers, ${rounds} alternating rounds of ${runMs / 1000}s, ${values.subjects} subjects`,
);
for (const [, target] of targets) await drive(target.address, requests, 1_000);
const results = new Map<string, Result[]>(targets.map(([name]) => [name, []]));
for (let round = 1; round <= rounds; round++) {
  const line: string[] = [];
  for (const [name, target] of targets) {
    const result = await drive(target.address, requests, runMs);
    results.get(name)!.push(result);
    line.push(`${name} ${result.rps.toFixed(0)}`);
  }
  console.log(`round ${round}: ${line.join('   ')} req/s`);
}

const noop = summary(results.get('no-op')!);
const kit = summary(results.get('kit no-op')!);
const real = summary(results.get('authz')!);
console.log('\nmedians');
console.log(`no-op grpc-js   ${format(noop)}`);
console.log(`kit no-op       ${format(kit)}   ${(kit.rps / noop.rps).toFixed(2)} x no-op`);
console.log(`authz-service   ${format(real)}   ${(real.rps / kit.rps).toFixed(2)} x kit no-op`);
const ratio = real.rps / noop.rps;
console.log(
  `\nauthz-service = ${ratio.toFixed(2)} x the no-op's requests/s (target >= 0.85), p99 ${(real.p99 / noop.p99).toFixed(2)} x its p99`,
);

for (const [, target] of targets) await target.stop();
process.exit(ratio >= 0.85 ? 0 : 1);
