// Resident memory of every service process, run as the image runs it (`node dist/<entry>.js` in the
// production tree scripts/package.sh makes), over the real Postgres and NATS.
// Targets (DESIGN.md section 5): idle RSS <= 120 MB, under load <= 250 MB, per process.
// Idle is read after the processes have sat SERVING for --idle seconds; load is the highest RSS
// sampled while users register at --rate/s (each then waits for its default role, which drives
// user-service, both workers' consumers and relays, and authz's CheckPermission).
// user-service hashes with the production argon2id parameters unless --hashing test: each hash in
// flight holds 19 MiB.
//   npx tsx bench/memory.ts [--idle 20] [--rate 50] [--seconds 20] [--hashing standard|test] [--packages <dir>]
// Without --packages, the three services are packaged into a temporary directory first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureRegistrationToRole } from '../tests/support/registration-latency.js';
import { STANDARD_HASHING_ENV, startStack } from '../tests/support/stack.js';

const IDLE_TARGET_MB = 120;
const LOAD_TARGET_MB = 250;
const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '20' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    packages: { type: 'string' },
    hashing: { type: 'string', default: 'standard' },
  },
});

const root = join(import.meta.dirname, '..');
const made = values.packages ? undefined : mkdtempSync(join(tmpdir(), 'warden-packages-'));
const packages = values.packages ?? made!;
if (made)
  for (const service of ['user-service', 'session-service', 'authz-service'])
    execFileSync('bash', [join(root, 'scripts', 'package.sh'), service, join(made, service)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
process.env.WARDEN_STACK_PACKAGES = packages;

if (values.hashing !== 'test' && values.hashing !== 'standard')
  throw new Error(`--hashing is test or standard, not ${values.hashing}`);
const stack = await startStack(
  values.hashing === 'standard' ? { env: { user: STANDARD_HASHING_ENV } } : {},
);
try {
  await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000));
  const idle = stack.processes.map((p) => rssMb(p.child.pid!));

  const peak = [...idle];
  const sampler = setInterval(() => {
    stack.processes.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssMb(p.child.pid!))));
  }, 100);
  const rate = Number(values.rate);
  const report = await measureRegistrationToRole(stack, rate * Number(values.seconds), rate);
  clearInterval(sampler);

  console.log(
    `resident memory per process (production bundles, ${values.hashing} argon2id parameters, ${report.count} registrations at ${rate}/s for the load)`,
  );
  console.log(`  ${'process'.padEnd(28)} ${'idle'.padStart(9)} ${'under load'.padStart(11)}`);
  stack.processes.forEach((p, i) =>
    console.log(
      `  ${p.name.padEnd(28)} ${idle[i]!.toFixed(0).padStart(6)} MB ${peak[i]!.toFixed(0).padStart(8)} MB`,
    ),
  );
  const worstIdle = Math.max(...idle);
  const worstLoad = Math.max(...peak);
  console.log(
    `  idle: highest ${worstIdle.toFixed(0)} MB = ${(worstIdle / IDLE_TARGET_MB).toFixed(2)} x the ${IDLE_TARGET_MB} MB target (<= 1.00 meets it)`,
  );
  console.log(
    `  load: highest ${worstLoad.toFixed(0)} MB = ${(worstLoad / LOAD_TARGET_MB).toFixed(2)} x the ${LOAD_TARGET_MB} MB target (<= 1.00 meets it)`,
  );
} finally {
  await stack.stop();
  if (made) rmSync(made, { recursive: true, force: true });
}

/** VmRSS of a process, from /proc (Linux), in MB. */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}
