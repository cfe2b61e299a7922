// Driving and statistics shared by the closed-loop benchmarks (bench/register-user.ts,
// start-session.ts, end-session.ts, check-permission.ts, validate-session.ts): their common
// options, closed-loop callers for a bounded time, rounds that alternate between the service and its
// physical limit (so load from elsewhere on the machine hits both alike), medians, a verdict line.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector/promises';
import { join } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

/** How the rounds are run: every closed-loop bench takes these from its command line. */
export interface RunOptions {
  concurrency: number;
  runMs: number;
  rounds: number;
}

type CommonOption = 'concurrency' | 'seconds' | 'rounds';

/**
 * A closed-loop bench's command line: --concurrency, --seconds and --rounds, which every one takes
 * (each with defaults of its own), and the script's own options. `values` holds them all as given
 * (strings, as the scripts print them); `run` the common three as alternate() takes them.
 */
export function closedLoopArgs<Name extends string>(
  defaults: Record<CommonOption | Name, string>,
): { run: RunOptions; values: Record<CommonOption | Name, string> } {
  const options = Object.fromEntries(
    Object.entries<string>(defaults).map(([name, value]) => [
      name,
      { type: 'string' as const, default: value },
    ]),
  );
  // Every option has a string default, so every value is a string.
  const values = parseArgs({ options }).values as Record<CommonOption | Name, string>;
  return {
    run: {
      concurrency: Number(values.concurrency),
      runMs: Number(values.seconds) * 1_000,
      rounds: Number(values.rounds),
    },
    values,
  };
}

export interface Result {
  /** Completed operations per second (errors excluded). */
  rps: number;
  p50: number;
  p99: number;
  count: number;
  errors: number;
  /**
   * CPU time per completed call, in ms: this process's main (event loop) thread, its other threads
   * (the libuv pool, where argon2 runs, and V8's helpers), and the local Postgres processes.
   */
  cpu: { main: number; threads: number; postgres: number };
  /** The first failure, for the report: a failing benchmark must not pass as a fast one. */
  firstError?: string;
}

/**
 * `concurrency` callers in a closed loop until `ms` has passed (a bounded loop) or `op` says there
 * is nothing left to do (returns false); the latency of every completed call in ms.
 */
export async function drive(
  concurrency: number,
  ms: number,
  op: (caller: number) => Promise<unknown>,
): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const deadline = performance.now() + ms;
  const caller = async (index: number) => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        if ((await op(index)) === false) return;
        latencies.push(performance.now() - started);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
        if (errors > 100) return;
      }
    }
  };
  const pgBefore = postgresCpuMs();
  const mainBefore = mainThreadCpuMs();
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  const elapsed = (performance.now() - began) / 1000;
  const cpuUsed = process.cpuUsage(cpuBefore);
  const mainUsed = mainThreadCpuMs() - mainBefore;
  const pgUsed = postgresCpuMs() - pgBefore;
  const perCall = (ms: number) => (latencies.length ? ms / latencies.length : NaN);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return {
    rps: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    count: latencies.length,
    errors,
    cpu: {
      main: perCall(mainUsed),
      threads: perCall((cpuUsed.user + cpuUsed.system) / 1000 - mainUsed),
      postgres: perCall(pgUsed),
    },
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** utime + stime in ms from a /proc stat line (USER_HZ is 100 on Linux). */
function statCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime: fields 14 and 15
}

/** The event loop thread's CPU time in ms (its thread id is the process id); 0 off Linux. */
function mainThreadCpuMs(): number {
  try {
    return statCpuMs(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'));
  } catch {
    return 0;
  }
}

/** utime + stime of every local postgres process, in ms (Linux /proc; 0 elsewhere). */
function postgresCpuMs(): number {
  let ms = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres'))
        ms += statCpuMs(stat);
    } catch {
      // gone since the listing
    }
  }
  return ms;
}

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const summary = (results: Result[]): Result => ({
  rps: median(results.map((r) => r.rps)),
  p50: median(results.map((r) => r.p50)),
  p99: median(results.map((r) => r.p99)),
  count: results.reduce((sum, r) => sum + r.count, 0),
  errors: results.reduce((sum, r) => sum + r.errors, 0),
  cpu: {
    main: median(results.map((r) => r.cpu.main)),
    threads: median(results.map((r) => r.cpu.threads)),
    postgres: median(results.map((r) => r.cpu.postgres)),
  },
});

export const format = (r: Result, unit: string): string =>
  `${r.rps.toFixed(1).padStart(8)} ${unit}/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   cpu/op main ${r.cpu.main.toFixed(2)} threads ${r.cpu.threads.toFixed(2)} pg ${r.cpu.postgres.toFixed(2)} ms   n ${r.count}${r.errors ? `   errors ${r.errors}` : ''}`;

/** The machine's state next to the figures: the cores, the libuv pool, the load averages. */
export function machine(): string {
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(2));
  return `${availableParallelism()} cores, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 'default (4)'}, load average ${one} ${five} ${fifteen}`;
}

export interface Target {
  name: string;
  /** Before every run, outside the timed window: e.g. supply the rows the run will consume. */
  prepare?(runMs: number): Promise<void>;
  /** One operation; false when there is nothing left to operate on. */
  op(caller: number): Promise<unknown>;
}

/**
 * A warm-up run of each target, then `rounds` rounds running every target once in turn; prints a
 * line per round (with the service / limit ratio of that round) and returns each target's results.
 * The limit is the first target, the service the last.
 */
export async function alternate(options: {
  targets: Target[];
  concurrency: number;
  runMs: number;
  rounds: number;
  warmupMs: number;
  unit: string;
}): Promise<Result[][]> {
  const { targets, concurrency, runMs, rounds, warmupMs, unit } = options;
  for (const target of targets) {
    await target.prepare?.(warmupMs);
    await drive(concurrency, warmupMs, (i) => target.op(i));
  }
  const results: Result[][] = targets.map(() => []);
  const width = Math.max(...targets.map((t) => t.name.length));
  for (let round = 1; round <= rounds; round++) {
    for (const [index, target] of targets.entries()) {
      await target.prepare?.(runMs);
      const stopProfile = await profileIf(target.name, round);
      const result = await drive(concurrency, runMs, (i) => target.op(i));
      await stopProfile();
      results[index]!.push(result);
      console.log(`round ${round}  ${target.name.padEnd(width)}  ${format(result, unit)}`);
      if (result.firstError) console.log(`          first error: ${result.firstError}`);
    }
    const limit = results[0]![round - 1]!;
    const service = results[targets.length - 1]![round - 1]!;
    console.log(`round ${round}  ratio ${(service.rps / limit.rps).toFixed(2)} x   (${machine()})`);
  }
  return results;
}

/**
 * WARDEN_BENCH_PROFILE=<dir>: a V8 CPU profile of this process for each timed run alone (no
 * seeding, no warm-up), written as <dir>/<target>-round<N>.cpuprofile, for chrome://inspect or
 * any .cpuprofile reader. WARDEN_BENCH_PROFILE_TARGET narrows it to targets containing that text.
 */
async function profileIf(name: string, round: number): Promise<() => Promise<void>> {
  const dir = process.env.WARDEN_BENCH_PROFILE;
  const only = process.env.WARDEN_BENCH_PROFILE_TARGET;
  if (!dir || (only && !name.includes(only))) return async () => undefined;
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name.replace(/[^A-Za-z0-9]+/g, '-')}-round${round}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Medians of every target, then the verdict: the service's median over the limit's, against the target. */
export function verdict(options: {
  what: string;
  limitName: string;
  targets: Target[];
  results: Result[][];
  target: number;
  unit: string;
}): { ratio: number; met: boolean } {
  const { targets, results, unit } = options;
  const width = Math.max(...targets.map((t) => t.name.length));
  console.log(`\nmedian of ${results[0]!.length} rounds`);
  const medians = results.map(summary);
  for (const [index, target] of targets.entries())
    console.log(`${target.name.padEnd(width)}  ${format(medians[index]!, unit)}`);
  const limit = medians[0]!;
  const service = medians[medians.length - 1]!;
  const ratio = service.rps / limit.rps;
  const clean = service.errors === 0 && limit.errors === 0;
  const met = clean && ratio >= options.target;
  console.log(
    `${options.what} = ${ratio.toFixed(2)} x ${options.limitName} (target >= ${options.target}): ${met ? 'MET' : clean ? 'NOT MET' : 'INVALID (errors)'}   [${machine()}]`,
  );
  return { ratio, met };
}

/**
 * The comparison every closed-loop bench makes once its targets are up: a one-second warm-up and
 * `rounds` alternating rounds (see alternate), then `afterRounds` for what the script reports about
 * the runs (e.g. the rows the service wrote), then the medians and the verdict (see verdict).
 */
export async function compare(
  options: RunOptions & {
    targets: Target[];
    unit: string;
    what: string;
    limitName: string;
    target: number;
    afterRounds?: () => Promise<void>;
  },
): Promise<{ results: Result[][]; ratio: number; met: boolean }> {
  const results = await alternate({ ...options, warmupMs: 1_000 });
  await options.afterRounds?.();
  return { results, ...verdict({ ...options, results }) };
}
