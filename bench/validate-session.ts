// ValidateSession, warm, against the physical limit: a no-op grpc-js unary handler with the same
// method shape, driven by the same client at the same concurrency, in alternating rounds.
// Target: session-service >= 0.8 x the no-op's requests/s and p99 <= 3 x its p99.
//   npx tsx bench/validate-session.ts [--concurrency 64] [--seconds 4] [--rounds 3]
import { parseArgs } from 'node:util';
import {
  benchClient,
  startKitNoopServer,
  startNoopServer,
  startSessionServer,
} from '../services/session-service/test/support/bench-kit.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
  },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

/** `concurrency` callers in a closed loop for `ms` (a bounded loop); the latency of every call in ms. */
async function drive(address: string, token: string, ms: number): Promise<Result> {
  const client = benchClient(address);
  const latencies: number[] = [];
  const deadline = performance.now() + ms;
  const caller = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      await client.validate(token);
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

const format = (r: Result) =>
  `${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`;
const median = (results: Result[], key: keyof Result) =>
  results.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(results.length / 2)]!;

const noop = await startNoopServer();
const kit = await startKitNoopServer();
const session = await startSessionServer();
console.log(
  `ValidateSession: ${concurrency} concurrent callers, ${seconds}s per run, ${rounds} alternating rounds`,
);
await drive(noop.address, session.token, 1_000);
await drive(kit.address, session.token, 1_000);
await drive(session.address, session.token, 1_000);
const results = { noop: [] as Result[], kit: [] as Result[], session: [] as Result[] };
for (let round = 1; round <= rounds; round++) {
  const n = await drive(noop.address, session.token, seconds * 1_000);
  const k = await drive(kit.address, session.token, seconds * 1_000);
  const s = await drive(session.address, session.token, seconds * 1_000);
  results.noop.push(n);
  results.kit.push(k);
  results.session.push(s);
  console.log(`round ${round}  no-op           ${format(n)}`);
  console.log(`round ${round}  kit no-op       ${format(k)}`);
  console.log(`round ${round}  session-service ${format(s)}`);
}
const summary = (list: Result[]): Result => ({
  rps: median(list, 'rps'),
  p50: median(list, 'p50'),
  p99: median(list, 'p99'),
});
const [n, k, s] = [summary(results.noop), summary(results.kit), summary(results.session)];
const rpsRatio = s.rps / n.rps;
const p99Ratio = s.p99 / n.p99;
console.log(`\nmedian of ${rounds} rounds`);
console.log(`no-op            ${format(n)}`);
console.log(
  `kit no-op        ${format(k)}   (server kit around a constant: ${(k.rps / n.rps).toFixed(2)} x)`,
);
console.log(`session-service  ${format(s)}`);
console.log(
  `ratio ${rpsRatio.toFixed(2)} x the no-op's requests/s (target >= 0.8); p99 ${p99Ratio.toFixed(2)} x (target <= 3)`,
);

await session.stop();
await kit.stop();
await noop.stop();
process.exit(rpsRatio >= 0.8 && p99Ratio <= 3 ? 0 : 1);
