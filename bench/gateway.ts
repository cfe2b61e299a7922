// The gateway's two numbers over the real stack (session-service with access tokens, real Postgres
// and NATS), in one run. Targets (DESIGN.md section 5):
// 1. authenticate() with an access token (verified locally by @warden/gateway) >= 20 x the
//    requests/s of ValidateSession over gRPC, same client process, same concurrency, alternating
//    rounds; p99 of each printed.
// 2. revocation applied at the gateway: EndSession / DisableUser / RevokeRole -> authenticate()
//    refuses the access token, p99 <= 1 s (timed from the call's response, polled every 2 ms).
//   npx tsx bench/gateway.ts [--concurrency 64] [--seconds 3] [--rounds 3] [--trials 20]
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createGateway,
  GatewayError,
  grpcSessionApi,
  MemoryCheckpointStore,
  type Gateway,
} from '../libs/gateway/src/index.js';
import type { userv1 } from '../libs/proto/src/index.js';
import { waitFor } from '../libs/testing/src/index.js';
import { bootstrapAdmin, check, register, signIn } from '../tests/support/flows.js';
import { formatPercentiles, percentiles } from '../tests/support/registration-latency.js';
import { call, GATEWAY_KEY, startStack, type Stack } from '../tests/support/stack.js';
import { closedLoopArgs, compare } from './lib/closed-loop.js';

const ISSUER = 'warden-bench';
const TARGET_RATIO = 20;
const TARGET_MS = 1_000;
const POLL_MS = 2;
const { run, values } = closedLoopArgs({
  concurrency: '64',
  seconds: '3',
  rounds: '3',
  trials: '20',
});
const trials = Number(values.trials);

const stack = await startStack({
  env: { session: { WARDEN_ACCESS_TOKENS_ENABLED: 'true', WARDEN_ACCESS_TOKENS_ISSUER: ISSUER } },
});
let exitCode = 1;
try {
  const admin = await bootstrapAdmin(stack);
  const session = grpcSessionApi({ address: stack.addresses.session, serviceKey: GATEWAY_KEY });
  const gateway = createGateway({
    session,
    issuer: ISSUER,
    checkpoints: new MemoryCheckpointStore(),
  });
  await gateway.ready();
  await waitFor(() => gateway.status().connected, { what: 'the revocation feed' });

  // Users signed in after their default role (a role grant refuses older tokens, to the second).
  const users = await Promise.all(
    Array.from({ length: 2 * trials + 1 }, (_, i) => newUser(stack, `gw${i}`)),
  );
  await sleep(1_100);
  const [main, ...rest] = users;
  const signedIn = await signIn(stack, main!.email);

  // 1. Throughput at the same concurrency, alternating rounds; ValidateSession is the reference.
  console.log(
    `authenticate() with access tokens vs ValidateSession over gRPC: ${values.concurrency} concurrent callers, ${values.seconds}s per run, ${values.rounds} rounds`,
  );
  const bearer = { authorization: `Bearer ${signedIn.accessToken}` };
  const { met: fastEnough } = await compare({
    ...run,
    targets: [
      { name: 'ValidateSession (gRPC)', op: () => session.validateSession(signedIn.token) },
      { name: 'authenticate (access token)', op: () => gateway.authenticate(bearer) },
    ],
    unit: 'req',
    what: 'authenticate()',
    limitName: "ValidateSession's requests/s",
    target: TARGET_RATIO,
  });

  // 2. Revocation latency, per kind, from the revoking call's response to the first refusal.
  const delays: Record<string, number[]> = { EndSession: [], DisableUser: [], RevokeRole: [] };
  for (let trial = 0; trial < trials; trial++) {
    const ending = await signIn(stack, main!.email);
    await accepted(gateway, ending.accessToken);
    delays.EndSession!.push(
      await timeRefusal(gateway, ending.accessToken, () =>
        call(stack.sessions, 'endSession', { sessionId: ending.session.id }, ending.token),
      ),
    );
    const disabled = rest[2 * trial]!;
    const disabledSession = await signIn(stack, disabled.email);
    await accepted(gateway, disabledSession.accessToken);
    delays.DisableUser!.push(
      await timeRefusal(gateway, disabledSession.accessToken, () =>
        call(stack.users, 'disableUser', { userId: disabled.id, reason: 'bench' }, admin.token),
      ),
    );
    const demoted = rest[2 * trial + 1]!;
    const demotedSession = await signIn(stack, demoted.email);
    await accepted(gateway, demotedSession.accessToken);
    delays.RevokeRole!.push(
      await timeRefusal(gateway, demotedSession.accessToken, () =>
        call(stack.authz, 'revokeRole', { subjectId: demoted.id, role: 'player' }, admin.token),
      ),
    );
  }
  console.log(
    `\nrevoking call -> authenticate() refuses, ${trials} trials each (polled every ${POLL_MS} ms)`,
  );
  const all = Object.values(delays).flat();
  for (const [kind, list] of Object.entries(delays))
    console.log(`  ${kind.padEnd(12)} ${formatPercentiles(percentiles(list))}`);
  const p99 = percentiles(all).p99;
  console.log(`  ${'all'.padEnd(12)} ${formatPercentiles(percentiles(all))}`);
  console.log(
    `revocation at the gateway: p99 / ${TARGET_MS} ms target = ${(p99 / TARGET_MS).toFixed(3)} (<= 1.00 meets it): ${p99 <= TARGET_MS ? 'MET' : 'NOT MET'}`,
  );
  exitCode = fastEnough && p99 <= TARGET_MS ? 0 : 1;
  await gateway.close();
} finally {
  await stack.stop();
}
process.exit(exitCode);

async function newUser(stack: Stack, label: string): Promise<userv1.User> {
  const user = await register(stack, `${label}-${randomUUID()}@example.com`);
  await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
    timeoutMs: 30_000,
    what: 'default role',
  });
  return user;
}

function outcome(gateway: Gateway, token: string): Promise<string> {
  return gateway.authenticate({ authorization: `Bearer ${token}` }).then(
    () => 'accepted',
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );
}

async function accepted(gateway: Gateway, token: string): Promise<void> {
  const result = await outcome(gateway, token);
  if (result !== 'accepted') throw new Error(`a fresh access token was refused: ${result}`);
}

/** Ms from `revoke`'s response until the gateway refuses `token` (at most 10 s). */
async function timeRefusal(gateway: Gateway, token: string, revoke: () => Promise<unknown>) {
  await revoke();
  const from = performance.now();
  while ((await outcome(gateway, token)) === 'accepted') {
    if (performance.now() - from > 10_000) throw new Error('the gateway never refused the token');
    await sleep(POLL_MS);
  }
  return performance.now() - from;
}
