// UserRegistered -> default role visible in authz, at a steady registration rate, over the real
// stack (3 servers + 3 workers as processes, real Postgres and NATS). Target: p99 <= 100 ms at 50/s.
//   npx tsx bench/registration-to-role.ts [--rate 50] [--seconds 10]
import { parseArgs } from 'node:util';
import { measureRegistrationToRole } from '../tests/support/registration-latency.js';
import { startStack } from '../tests/support/stack.js';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '50' }, seconds: { type: 'string', default: '10' } },
});
const rate = Number(values.rate);
const count = Math.round(rate * Number(values.seconds));

const stack = await startStack();
try {
  await measureRegistrationToRole(stack, 20, 10); // warm-up: JIT, pools, consumers
  const report = await measureRegistrationToRole(stack, count, rate);
  console.log(`registration -> default role at ${rate}/s, n=${report.count}`);
  console.log(
    `  p50 ${report.p50.toFixed(1)} ms   p99 ${report.p99.toFixed(1)} ms   max ${report.max.toFixed(1)} ms`,
  );
  console.log(`  p99 / 100 ms target: ${(report.p99 / 100).toFixed(2)} (<= 1.00 meets it)`);
} finally {
  await stack.stop();
}
