// CheckPermission, warm, against the physical limit: a no-op grpc-js unary handler driven by the
// same client at the same concurrency. Target (issue 12, tighter than DESIGN 5's 0.85 x):
// authz-service >= 0.9 x the no-op's requests/s.
// Runs alternate (no-op, kit no-op, authz) so load from elsewhere on the machine hits all alike;
// the verdict compares medians. "kit no-op" is the server kit around an empty handler: the part of
// the gap that is the shared kit's (identity, request id, trace, metrics), not authz's.
//   npx tsx bench/check-permission.ts [--concurrency 32] [--seconds 2] [--rounds 7] [--subjects 10000]
import {
  benchClient,
  startAuthzServer,
  startKitNoopServer,
  startNoopServer,
  type CheckRequest,
  type Running,
} from '../services/authz-service/test/support/bench-kit.js';
import { closedLoopArgs, compare, summary, type Target } from './lib/closed-loop.js';

const { run, values } = closedLoopArgs({
  concurrency: '32',
  seconds: '2',
  rounds: '7',
  subjects: '10000',
});

const authz = await startAuthzServer(Number(values.subjects));
const servers: Array<[string, Running]> = [
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
  `CheckPermission, warm: ${run.concurrency} concurrent callers, ${run.rounds} alternating rounds of ${run.runMs / 1000}s, ${values.subjects} subjects`,
);
const clients = servers.map(([, server]) => benchClient(server.address));
let next = 0;
const targets: Target[] = servers.map(([name], i) => ({
  name,
  op: () => clients[i]!.check(requests[next++ % requests.length]!),
}));
const { results, met } = await compare({
  ...run,
  targets,
  unit: 'req',
  what: 'authz-service',
  limitName: "the no-op's requests/s",
  target: 0.9,
});
console.log(
  `p99 = ${(summary(results[2]!).p99 / summary(results[0]!).p99).toFixed(2)} x the no-op's p99`,
);

for (const client of clients) client.close();
for (const [, server] of servers) await server.stop();
process.exit(met ? 0 : 1);
