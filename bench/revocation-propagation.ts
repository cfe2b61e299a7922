// Revocation visible on every replica, over the real stack (3 servers + 3 workers as processes,
// real Postgres and NATS). Target (DESIGN.md section 5): <= 1 s.
// Each trial gives a signed-in user the admin role, warms every place that decides with it (authz's
// model, and the authz-client decision caches in user-service and session-service, which would
// otherwise answer from a cache for cache_ttl), revokes the role, and times from the RevokeRole
// response until each of the three denies:
//   authz-service    CheckPermission(user, user.read on another user)
//   user-service     GetUser(another user) with the user's token
//   session-service  GetSession(another user's session) with the user's token
//   npx tsx bench/revocation-propagation.ts [--trials 30]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { AppError } from '../libs/errors/src/index.js';
import { bootstrapAdmin, check, register, signIn } from '../tests/support/flows.js';
import { formatPercentiles, percentiles } from '../tests/support/registration-latency.js';
import { call, startStack } from '../tests/support/stack.js';

const TARGET_MS = 1_000;
const POLL_MS = 2;
const { values } = parseArgs({ options: { trials: { type: 'string', default: '30' } } });
const trials = Number(values.trials);

const stack = await startStack();
try {
  const admin = await bootstrapAdmin(stack);
  const other = await register(stack, `other-${stack.prefix}@example.com`);
  const otherSession = await signIn(stack, `other-${stack.prefix}@example.com`);
  const email = `revoked-${stack.prefix}@example.com`;
  const user = await register(stack, email);
  const { token } = await signIn(stack, email);

  /** Whether each place lets `user` act on `other` right now (a denial is PERMISSION_DENIED). */
  const probes: Record<string, () => Promise<boolean>> = {
    'authz-service': async () =>
      (await check(stack, user.id, 'user.read', { type: 'user', id: other.id, ownerId: other.id }))
        .allowed,
    'user-service': () => allowed(call(stack.users, 'getUser', { userId: other.id }, token)),
    'session-service': () =>
      allowed(call(stack.sessions, 'getSession', { sessionId: otherSession.session.id }, token)),
  };
  const names = Object.keys(probes);
  const delays: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const worst: number[] = [];

  for (let trial = 0; trial < trials; trial++) {
    await call(
      stack.authz,
      'assignRole',
      { subjectId: user.id, role: 'admin', requestId: randomUUID() },
      admin.token,
    );
    // Until every place allows: the caches now hold an allow that the revocation must drop.
    for (const name of names) await until(probes[name]!, true, `${name} allows`);
    for (const name of names) await probes[name]!(); // and once more, from the warm cache

    await call(stack.authz, 'revokeRole', { subjectId: user.id, role: 'admin' }, admin.token);
    const revoked = performance.now();
    const seen = await Promise.all(
      names.map(async (name) => {
        await until(probes[name]!, false, `${name} denies`);
        return performance.now() - revoked;
      }),
    );
    names.forEach((name, i) => delays[name]!.push(seen[i]!));
    worst.push(Math.max(...seen));
  }

  const fmt = (values: number[]) => formatPercentiles(percentiles(values));
  console.log(`RevokeRole -> denied everywhere, ${trials} trials (polled every ${POLL_MS} ms)`);
  for (const name of names) console.log(`  ${name.padEnd(16)} ${fmt(delays[name]!)}`);
  console.log(`  ${'all three'.padEnd(16)} ${fmt(worst)}`);
  const max = Math.max(...worst);
  console.log(
    `  slowest / ${TARGET_MS} ms target: ${(max / TARGET_MS).toFixed(3)} (<= 1.00 meets it)`,
  );
} finally {
  await stack.stop();
}

async function allowed(request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return true;
  } catch (error) {
    if ((error as AppError).kind === 'PERMISSION_DENIED') return false;
    throw error;
  }
}

/** Polls `probe` until it returns `want`, for at most 10 s. */
async function until(probe: () => Promise<boolean>, want: boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while ((await probe()) !== want) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
