// Resident memory of every service process, run as the image runs it (`node dist/<entry>.js` in the
// production tree scripts/package.sh makes), each with the node flags its k8s container gives it
// (deploy/k8s/base: the flags in `args` and NODE_OPTIONS), over the real Postgres and NATS.
// Targets (DESIGN.md section 5): idle RSS <= 120 MB, under load <= 250 MB, per process; each
// process's figures are printed with MET/NOT MET, and a process that dies is NOT MET.
// Idle is read after the processes have sat SERVING for --idle seconds; load is the highest RSS
// sampled while users register at --rate/s (each then waits for its default role, which drives
// user-service, both workers' consumers and relays, and authz's CheckPermission); "after" is read
// --idle seconds after the load (what an idle process keeps of it; shown, not judged).
// user-service hashes with the production argon2id parameters unless --hashing test: each hash in
// flight holds 19 MiB.
//   npx tsx bench/memory.ts [--idle 20] [--rate 50] [--seconds 20] [--hashing standard|test]
//     [--packages <dir>] [--node-options='<flags>']
// Without --packages, the three services are packaged into a temporary directory first.
// --node-options='<flags>' runs every process with these instead (--node-options= with none).
// Idle, each process's RSS is split as /proc/<pid>/status does: anon (V8's heap, malloc, buffers)
// and file (mapped code of node and native addons), with its thread count.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureRegistrationToRole } from '../tests/support/registration-latency.js';
import { STANDARD_HASHING_ENV, startStack, type StackService } from '../tests/support/stack.js';
import { productionNodeOptions, type ProcessRole } from './lib/production-node-options.js';

const IDLE_TARGET_MB = 120;
const LOAD_TARGET_MB = 250;
const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '20' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    packages: { type: 'string' },
    hashing: { type: 'string', default: 'standard' },
    'node-options': { type: 'string' },
  },
});

const root = join(import.meta.dirname, '..');
if (values.hashing !== 'test' && values.hashing !== 'standard')
  throw new Error(`--hashing is test or standard, not ${values.hashing}`);
const nodeOptions = (service: StackService, role: ProcessRole): string =>
  values['node-options'] ?? productionNodeOptions(`${service}-service`, role);
const SERVICES = ['user', 'session', 'authz'] as const;
const made = values.packages ? undefined : mkdtempSync(join(tmpdir(), 'warden-packages-'));
const packages = values.packages ?? made!;
if (made)
  for (const service of ['user-service', 'session-service', 'authz-service'])
    execFileSync('bash', [join(root, 'scripts', 'package.sh'), service, join(made, service)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
process.env.WARDEN_STACK_PACKAGES = packages;

// A service's environment is its server's and its worker's: the servers start with theirs, and
// each worker whose flags differ is started again with its own.
const stack = await startStack({
  // The servers serve only; the migrations Job migrates, as in a release.
  migrationsJob: true,
  env: {
    user: {
      NODE_OPTIONS: nodeOptions('user', 'server'),
      ...(values.hashing === 'standard' ? STANDARD_HASHING_ENV : {}),
    },
    session: { NODE_OPTIONS: nodeOptions('session', 'server') },
    authz: { NODE_OPTIONS: nodeOptions('authz', 'server') },
  },
});
try {
  for (const service of SERVICES)
    if (nodeOptions(service, 'worker') !== nodeOptions(service, 'server'))
      await stack.restartWorker(service, { NODE_OPTIONS: nodeOptions(service, 'worker') });
  const flags = stack.processes.map((p) =>
    nodeOptions(
      p.name.slice(0, p.name.indexOf('-')) as StackService,
      p.name.endsWith('worker.ts') ? 'worker' : 'server',
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000));
  const idle = stack.processes.map((p) => rssMb(p.child.pid!));
  const idleDetail = stack.processes.map((p) => memoryDetail(p.child.pid!));

  const peak = [...idle];
  const sampler = setInterval(() => {
    stack.processes.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssMb(p.child.pid!))));
  }, 100);
  const rate = Number(values.rate);
  let report: Awaited<ReturnType<typeof measureRegistrationToRole>> | undefined;
  let failure: unknown;
  // measureRegistrationToRole rejects with the first failed registration; the others must not end
  // this process before it reports.
  process.on('unhandledRejection', (error) => (failure ??= error));
  try {
    report = await measureRegistrationToRole(stack, rate * Number(values.seconds), rate);
  } catch (error) {
    failure = error;
  } finally {
    clearInterval(sampler);
  }
  await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000));
  const after = stack.processes.map((p) => rssMb(p.child.pid!));

  console.log(
    `resident memory per process (production bundles, ${values.hashing} argon2id parameters, ${report ? `${report.count} registrations at ${rate}/s` : 'the registrations FAILED'} for the load)`,
  );
  console.log(
    `  ${'process'.padEnd(26)} ${'idle'.padStart(6)} ${'load'.padStart(7)} ${'after'.padStart(7)}   idle <= ${IDLE_TARGET_MB} MB   load <= ${LOAD_TARGET_MB} MB   idle detail; NODE_OPTIONS`,
  );
  stack.processes.forEach((p, i) => {
    const dead = p.child.exitCode !== null || p.child.signalCode !== null;
    const verdict = (mb: number, target: number, failed = false) =>
      (failed || dead || !Number.isFinite(mb) || mb > target ? 'NOT MET' : 'MET').padEnd(16);
    console.log(
      `  ${p.name.padEnd(26)} ${fmt(idle[i]!).padStart(6)} ${fmt(peak[i]!).padStart(7)} ${fmt(after[i]!).padStart(7)}   ${verdict(idle[i]!, IDLE_TARGET_MB)} ${verdict(peak[i]!, LOAD_TARGET_MB, failure !== undefined)} ${idleDetail[i]}; '${flags[i]}'${dead ? `   DIED (${p.child.exitCode ?? p.child.signalCode})` : ''}`,
    );
  });
  console.log('  (MB)');
  const worstIdle = Math.max(...idle);
  const worstLoad = Math.max(...peak);
  const met = (mb: number, target: number) => (mb <= target ? 'MET' : 'NOT MET');
  console.log(
    `  idle: highest ${fmt(worstIdle)} MB = ${(worstIdle / IDLE_TARGET_MB).toFixed(2)} x the ${IDLE_TARGET_MB} MB target: ${met(worstIdle, IDLE_TARGET_MB)}`,
  );
  console.log(
    `  load: highest ${fmt(worstLoad)} MB = ${(worstLoad / LOAD_TARGET_MB).toFixed(2)} x the ${LOAD_TARGET_MB} MB target: ${failure === undefined ? met(worstLoad, LOAD_TARGET_MB) : 'NOT MET (the load failed)'}`,
  );
  for (const p of stack.processes)
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      console.log(`\n${p.name} died:\n${p.output().slice(-3000)}`);
  if (failure) {
    console.log(`\nthe load FAILED: ${(failure as Error).stack ?? String(failure)}`);
    process.exitCode = 1;
  }
} finally {
  await stack.stop();
  if (made) rmSync(made, { recursive: true, force: true });
}

function fmt(mb: number): string {
  return Number.isFinite(mb) ? mb.toFixed(0) : '-';
}

/** VmRSS of a process, from /proc (Linux), in MB; NaN once it is gone. */
function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Anonymous (heap: V8 and malloc) and file-backed (code) resident MB, from /proc. */
function memoryDetail(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1]);
    const mb = (name: string) => (field(name) / 1024).toFixed(0);
    return `anon ${mb('RssAnon')} MB, file ${mb('RssFile')} MB, ${field('Threads')} threads`;
  } catch {
    return 'gone';
  }
}
