// ValidateSession, warm, against the physical limit: a no-op grpc-js unary handler with the same
// method shape, driven by the same client at the same concurrency, in alternating rounds.
// "kit no-op" is the server kit around a constant answer: the shared kit's part of the gap.
// Target (issue 12, tighter than DESIGN 5's 0.8 x and 3 x): session-service >= 0.9 x the no-op's
// requests/s and p99 <= 1.5 x its p99.
//   npx tsx bench/validate-session.ts [--concurrency 64] [--seconds 4] [--rounds 3]
import {
  benchClient,
  startKitNoopServer,
  startNoopServer,
  startSessionServer,
} from '../services/session-service/test/support/bench-kit.js';
import { closedLoopArgs, compare, summary, type Target } from './lib/closed-loop.js';

const { run, values } = closedLoopArgs({ concurrency: '64', seconds: '4', rounds: '3' });

const servers = [await startNoopServer(), await startKitNoopServer(), await startSessionServer()];
const token = (servers[2] as Awaited<ReturnType<typeof startSessionServer>>).token;
const clients = servers.map((server) => benchClient(server.address));
const targets: Target[] = ['no-op', 'kit no-op', 'session-service'].map((name, i) => ({
  name,
  op: () => clients[i]!.validate(token),
}));

console.log(
  `ValidateSession: ${values.concurrency} concurrent callers, ${values.seconds}s per run, ${values.rounds} alternating rounds`,
);
const { results, met } = await compare({
  ...run,
  targets,
  unit: 'req',
  what: 'session-service',
  limitName: "the no-op's requests/s",
  target: 0.9,
});
const p99Ratio = summary(results[2]!).p99 / summary(results[0]!).p99;
const P99_TARGET = 1.5;
console.log(
  `p99 = ${p99Ratio.toFixed(2)} x the no-op's p99 (target <= ${P99_TARGET}): ${p99Ratio <= P99_TARGET ? 'MET' : 'NOT MET'}`,
);

for (const client of clients) client.close();
for (const server of servers) await server.stop();
process.exit(met && p99Ratio <= P99_TARGET ? 0 : 1);
