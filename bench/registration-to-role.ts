// UserRegistered -> default role visible in authz, at a steady registration rate, over the real
// stack (3 servers + 3 workers as processes, real Postgres and NATS). Target: p99 <= 100 ms at 50/s.
//   npx tsx bench/registration-to-role.ts [--rate 50] [--seconds 10] [--hashing test|standard]
// --hashing standard runs user-service with the production argon2id parameters (m=19456 KiB, t=2):
// the hashing then competes for the same two cores, as it would in one box. The default is the test
// stack's cheap parameters, which isolates the event path the target is about.
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  formatPercentiles,
  measureRegistrationToRole,
} from '../tests/support/registration-latency.js';
import { STANDARD_HASHING_ENV, startStack } from '../tests/support/stack.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    hashing: { type: 'string', default: 'test' },
  },
});
const rate = Number(values.rate);
const count = Math.round(rate * Number(values.seconds));

if (values.hashing !== 'test' && values.hashing !== 'standard')
  throw new Error(`--hashing is test or standard, not ${values.hashing}`);
const stack = await startStack(
  values.hashing === 'standard' ? { env: { user: STANDARD_HASHING_ENV } } : {},
);
try {
  await measureRegistrationToRole(stack, 20, 10); // warm-up: JIT, pools, consumers
  const before = stack.processes.map((p) => cpuMs(p.child.pid!));
  const infraBefore = infraCpuMs();
  const self = process.cpuUsage();
  const report = await measureRegistrationToRole(stack, count, rate);
  const spent = stack.processes.map((p, i) => cpuMs(p.child.pid!) - before[i]!);
  const infraAfter = infraCpuMs();
  const { user, system } = process.cpuUsage(self);
  console.log(
    `registration -> default role at ${rate}/s, n=${report.count}, ${values.hashing} argon2id parameters`,
  );
  console.log(
    `  ${formatPercentiles(report)}   (${report.checksPerUser.toFixed(1)} CheckPermission calls per user)`,
  );
  console.log('  stages, each from the RegisterUser response:');
  console.log(`    registered on NATS     ${formatPercentiles(report.stages.userEvent)}`);
  console.log(`    role_assigned on NATS  ${formatPercentiles(report.stages.roleEvent)}`);
  console.log(`    CheckPermission allows ${formatPercentiles(report.stages.visible)}`);
  console.log('  CPU per registration (user + system), by process:');
  stack.processes.forEach((p, i) =>
    console.log(`    ${p.name.padEnd(28)} ${(spent[i]! / report.count).toFixed(2)} ms`),
  );
  console.log(
    `    ${'load generator'.padEnd(28)} ${((user + system) / 1000 / report.count).toFixed(2)} ms`,
  );
  for (const [name, ms] of infraAfter)
    console.log(
      `    ${name.padEnd(28)} ${((ms - (infraBefore.get(name) ?? 0)) / report.count).toFixed(2)} ms`,
    );
  console.log(`  p99 / 100 ms target: ${(report.p99 / 100).toFixed(2)} (<= 1.00 meets it)`);
} finally {
  await stack.stop();
}

/** CPU of every postgres and nats-server process on the machine (all runs share them), in ms. */
function infraCpuMs(): Map<string, number> {
  const totals = new Map<string, number>([
    ['postgres (all backends)', 0],
    ['nats-server', 0],
  ]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let name: string;
    let ms: number;
    try {
      name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      ms = cpuMs(Number(entry));
    } catch {
      continue; // gone meanwhile
    }
    if (name === 'postgres')
      totals.set('postgres (all backends)', totals.get('postgres (all backends)')! + ms);
    else if (name === 'nats-server') totals.set('nats-server', totals.get('nats-server')! + ms);
  }
  return totals;
}

/** utime + stime of a process, from /proc (Linux), in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ = 100
}
