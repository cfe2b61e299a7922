// authz-service as the number of role assignments grows: start time, memory and check latency at
// each size, from the production bundle (`node dist/main.js` in the tree scripts/package.sh makes)
// over the real Postgres and NATS. Targets (DESIGN.md sections 4b and 5), at the largest size:
// RSS <= 200 MB, start to SERVING <= 2 s, cold CheckPermission p99 <= 5 ms, and warm requests/s
// within 10% of the smallest size's (the memory and speed must not depend on the assignments).
//
// For each size N: a fresh schema migrated by the bundle's migrate.js, then N assignments written
// straight into it with generate_series (N subjects; every tenth holds a custom role inheriting
// player, the rest player; every twentieth grant expires tomorrow), ANALYZE, then the server:
//   start      spawn of `node dist/main.js` to grpc.health.v1 SERVING (polled every 100 ms), and
//              the CPU time the process used until then (what the wall time is on an idle machine)
//   idle       RSS after --idle seconds SERVING
//   cold       from a client process of its own (bench/lib/cold-client.ts: this one's GC pauses
//              are not authz's), after --jit-warmup checks of 100 other subjects (so V8 has
//              compiled both sides' paths), CheckPermission for --cold subjects never asked
//              before, --cold-concurrency callers:
//              every check reads its subject (one indexed read); p50/p99, highest RSS meanwhile,
//              and authz's CPU time per check (the latency's floor on an idle machine)
//   floor      the same from the same client against a bare grpc-js server that makes the same
//              one read per check (authz-service/test/support/cold-floor-server.ts), over
//              subjects nobody asked before: what this machine gives a gRPC call plus an indexed
//              Postgres read, with client, server and Postgres on the same cores
//   fill       CheckPermissions of 100 random subjects a call, min(N, 1.2 x cache max) checks:
//              the subject cache full at 1M (LRU evicting); highest RSS
// then warm rounds over all sizes in turn (alternating, so load from elsewhere on the machine hits
// every size alike): CheckPermission over --warm subjects already cached, --concurrency callers,
// --rounds rounds of --seconds; medians, the highest RSS seen meanwhile, and the verdict on the
// median of the rounds' largest / smallest req/s.
//   npx tsx bench/scale-authz.ts [--sizes 10000,100000,1000000] [--packages <dir>] [--cache-max 100000]
//     [--jit-warmup 3000] [--cold 2000] [--cold-concurrency 2] [--warm 2000] [--concurrency 32]
//     [--seconds 3] [--rounds 5] [--idle 3] [--node-options='<flags>'] [--help]
// The server gets the NODE_OPTIONS of deploy/k8s/base/authz-service/deployment.yaml (V8's heap
// sizes), as in production; --node-options='' runs it with V8's defaults.
// Without --packages, authz-service is packaged into a temporary directory first (about 40 s).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from '@warden/grpc';
import pg from 'pg';
import { authzv1 } from '../libs/proto/src/index.js';
import {
  ensureTestDatabase,
  ensureTestNats,
  freePort,
  natsEnv,
  startServiceProcess,
  TEST_DATABASE_URL,
  uniqueName,
  waitServing,
  type ServiceProcess,
} from '../libs/testing/src/index.js';
import {
  authzPackages,
  check,
  GATEWAY_KEY,
  seededSubject as subjectOf,
} from './lib/authz-bundle.js';
import { productionNodeFlags } from './lib/production-node-options.js';
import {
  alternate,
  drive,
  machine,
  median,
  summary,
  type Result,
  type Target,
} from './lib/closed-loop.js';

const TARGETS = { rssMb: 200, startMs: 2_000, coldP99Ms: 5, warmRatio: 0.9 };
const BATCH = 100; // CheckPermissions' largest batch
const TSX_LOADER = pathToFileURL(
  join(import.meta.dirname, '..', 'node_modules', 'tsx', 'dist', 'loader.mjs'),
).href;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    packages: { type: 'string' },
    'cache-max': { type: 'string', default: '100000' },
    cold: { type: 'string', default: '2000' },
    'cold-concurrency': { type: 'string', default: '2' },
    warm: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    'jit-warmup': { type: 'string', default: '3000' },
    idle: { type: 'string', default: '3' },
    'node-options': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  // This file's opening comment is the usage.
  const source = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  const usage = source.slice(
    0,
    source.findIndex((line) => !line.startsWith('//')),
  );
  console.log(usage.map((line) => line.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
// The server runs with the production Deployment's NODE_OPTIONS unless told otherwise.
const nodeOptions =
  values['node-options'] ?? productionNodeFlags('authz-service', 'server').nodeOptions;
const sizes = values.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1_000))
  throw new Error(`--sizes takes integers of at least 1000, not ${values.sizes}`);
const cacheMax = Number(values['cache-max']);
const coldCount = Number(values.cold);
const warmCount = Number(values.warm);

const { packages, cleanup } = authzPackages(values.packages);
await ensureTestDatabase();
await ensureTestNats();

/** The checks a caller makes of subject i: own resources, plain and inherited grants, denials. */
const checkOf = (i: number, k: number): authzv1.CheckPermissionRequest => {
  const subjectId = subjectOf(i);
  const own = { ownerId: subjectId };
  const [permission, resource] = (
    [
      ['session.end', { type: 'session', id: `s${i}`, ...own }],
      ['game.join', { type: 'game', id: 'g1' }],
      ['user.disable', { type: 'user', id: subjectId, ...own }],
      ['chat.mute', undefined],
    ] as const
  )[k % 4]!;
  return authzv1.CheckPermissionRequest.fromPartial({ subjectId, permission, resource });
};

interface Running {
  size: number;
  server: ServiceProcess;
  schema: string;
  client: authzv1.AuthzServiceClient;
  /** Subjects the warm rounds ask about (cached by the cold phase). */
  warm: number[];
  startMs: number;
  startCpuMs: number;
  idleMb: number;
  /** authz-service's CPU time per cold check, in ms. */
  coldCpuMs: number;
  cold: Result;
  /** The cold checks as authz-service timed them itself (its rpc duration histogram). */
  coldServer: ServerPercentile;
  /** The same cold checks against a bare grpc-js server making the same one read (the floor). */
  coldFloor: Result & { cpuMs: number };
  coldPeakMb: number;
  fillPeakMb: number;
  filled: number;
  warmPeakMb: number;
}

const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
const running: Running[] = [];
try {
  console.log(
    `authz at scale: sizes ${sizes.join(', ')} assignments, authz.subject_cache_max ${cacheMax}, production bundle in ${packages}, NODE_OPTIONS '${nodeOptions}'`,
  );
  for (const size of sizes) running.push(await measureSize(size));

  // Warm rounds, every size in turn: the smallest first (the reference), the largest last.
  const targets: Target[] = running.map((r) => {
    let next = 0;
    return {
      name: `${r.size} assignments`,
      prepare: async () => {
        // Whatever the fill evicted comes back before the timed run: warm means cached.
        for (let k = 0; k < r.warm.length; k += BATCH)
          await checks(
            r.client,
            r.warm.slice(k, k + BATCH).map((i) => checkOf(i, k)),
          );
      },
      op: async () => {
        const k = next++;
        return check(r.client, checkOf(r.warm[k % r.warm.length]!, k));
      },
    };
  });
  const [warmResults, warmPeaks] = await sampling(
    running.map((r) => r.server),
    () =>
      alternate({
        targets,
        concurrency: Number(values.concurrency),
        runMs: Number(values.seconds) * 1_000,
        rounds: Number(values.rounds),
        warmupMs: 1_000,
        unit: 'req',
      }),
  );
  running.forEach((r, i) => (r.warmPeakMb = warmPeaks[i]!));
  // Each round runs every size back to back: their ratio in one round is what load from elsewhere
  // disturbs least, so the verdict takes the median of the rounds' ratios.
  const ratios = warmResults[0]!.map((first, round) => warmResults.at(-1)![round]!.rps / first.rps);
  report(warmResults.map(summary), median(ratios));
} finally {
  for (const r of running) {
    r.client.close();
    await r.server.stop();
  }
  for (const r of running) await admin.query(`DROP SCHEMA IF EXISTS "${r.schema}" CASCADE`);
  await admin.end();
  cleanup();
}

async function measureSize(size: number): Promise<Running> {
  const schema = uniqueName(`bench_scale_${size}`);
  const port = await freePort();
  const metricsPort = await freePort();
  const env = {
    DATABASE_URL: TEST_DATABASE_URL,
    WARDEN_DATABASE_SCHEMA: schema,
    WARDEN_DATABASE_MIGRATE_ON_START: 'false',
    WARDEN_GRPC_HOST: '127.0.0.1',
    WARDEN_GRPC_PORT: String(port),
    WARDEN_METRICS_HOST: '127.0.0.1',
    WARDEN_METRICS_PORT: String(metricsPort),
    WARDEN_AUTHZ_SUBJECT_CACHE_MAX: String(cacheMax),
    NODE_OPTIONS: nodeOptions,
    ...natsEnv('authz-service'),
  };
  const migrate = startServiceProcess('authz-service', 'migrate.ts', env);
  const code = await new Promise<number | null>((resolve) => migrate.child.once('exit', resolve));
  if (code !== 0) throw new Error(`migrate.js failed (${code}):\n${migrate.output().slice(-3000)}`);
  const seedStarted = performance.now();
  await seed(schema, size);
  const seedMs = performance.now() - seedStarted;

  const started = performance.now();
  const server = startServiceProcess('authz-service', 'main.ts', env);
  const address = `127.0.0.1:${port}`;
  await waitServing(address, server);
  const startMs = performance.now() - started;
  const startCpuMs = cpuMs(server);
  await sleep(Number(values.idle) * 1_000);
  const idleMb = rssMb(server);
  const client = createClient(authzv1.AuthzServiceClient, { address, serviceKey: GATEWAY_KEY });

  // Cold: subjects never asked about, spread over the whole table.
  // Cold means the subject is not cached, not that the process is new: first the JIT's warm-up,
  // --jit-warmup checks over 100 other subjects (cached after their first check). The floor's
  // cold checks ask other subjects again, so Postgres has not read theirs either.
  const [jitSubjects, drawn] = splitAt(distinctRandom(size, 2 * coldCount + 100), 100);
  const [picks, floorPicks] = splitAt(drawn, coldCount);
  const jitWarmup = Number(values['jit-warmup']);
  const warmup = Array.from({ length: jitWarmup }, (_, k) =>
    checkOf(jitSubjects[k % jitSubjects.length]!, k),
  );
  let histogramBeforeCold = new Map<number, number>();
  let cpuBeforeCold = 0;
  const [cold, coldPeakMb] = await coldChecks(
    address,
    warmup,
    picks.map((pick, k) => checkOf(pick, k)),
    server,
    async () => {
      histogramBeforeCold = await checkDurations(metricsPort);
      cpuBeforeCold = cpuMs(server);
    },
  );
  const coldCpuMs = (cpuMs(server) - cpuBeforeCold) / cold.count;
  const coldServer = percentileOf(histogramBeforeCold, await checkDurations(metricsPort), 0.99);
  const coldFloor = await floorChecks(
    schema,
    nodeOptions,
    warmup,
    floorPicks.map((pick, k) => checkOf(pick, k)),
  );

  // Fill: random subjects until the cache is full (or every subject was asked).
  const fillCount = Math.min(size, Math.round(cacheMax * 1.2));
  let asked = 0;
  const [, [fillPeakMb = 0]] = await sampling([server], () =>
    drive(4, 600_000, async () => {
      if (asked >= fillCount) return false;
      asked += BATCH;
      const batch = Array.from({ length: BATCH }, (_, k) =>
        checkOf(Math.floor(Math.random() * size), k),
      );
      return checks(client, batch);
    }),
  );
  const result: Running = {
    size,
    server,
    schema,
    client,
    warm: picks.slice(0, warmCount),
    startMs,
    startCpuMs,
    idleMb,
    coldCpuMs,
    cold,
    coldServer,
    coldFloor,
    coldPeakMb,
    fillPeakMb,
    filled: asked,
    warmPeakMb: 0,
  };
  console.log(
    `${String(size).padStart(8)} assignments: seeded in ${(seedMs / 1000).toFixed(1)} s; start ${startMs.toFixed(0)} ms, idle ${idleMb.toFixed(0)} MB, cold p50 ${cold.p50.toFixed(2)} ms p99 ${cold.p99.toFixed(2)} ms (${cold.count} checks), ${asked} subjects asked to fill: ${fillPeakMb.toFixed(0)} MB`,
  );
  return result;
}

/** N assignments over N subjects, written by Postgres itself. */
async function seed(schema: string, size: number): Promise<void> {
  const client = await admin.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    await client.query(`INSERT INTO roles (name, description, permissions, inherits, built_in, create_time, update_time)
      VALUES ('moderator', 'bench', ARRAY['chat.*'], ARRAY['player'], false, now(), now())`);
    await client.query(
      `INSERT INTO role_assignments (subject_id, role, expire_time, create_time)
       SELECT md5('s' || i)::uuid::text,
              CASE WHEN i % 10 = 0 THEN 'moderator' ELSE 'player' END,
              CASE WHEN i % 20 = 1 THEN now() + interval '1 day' END,
              now()
       FROM generate_series(0, $1::int - 1) AS i`,
      [size],
    );
    await client.query('ANALYZE role_assignments');
  } finally {
    client.release();
  }
}

/** `warm`: each size's medians; `ratio`: the median over rounds of largest / smallest req/s. */
function report(warm: Result[], ratio: number): void {
  const mb = (x: number) => `${x.toFixed(0)} MB`;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const rows: Array<[string, (r: Running, i: number) => string]> = [
    ['start to SERVING', (r) => `${r.startMs.toFixed(0)} ms`],
    ['  CPU until then', (r) => `${r.startCpuMs.toFixed(0)} ms`],
    ['idle RSS', (r) => mb(r.idleMb)],
    ['RSS, cold checks', (r) => mb(r.coldPeakMb)],
    ['RSS, cache filled', (r) => `${mb(r.fillPeakMb)} (${r.filled} checks)`],
    ['RSS, warm checks', (r) => mb(r.warmPeakMb)],
    ['cold p50 / p99', (r) => `${ms(r.cold.p50)} / ${ms(r.cold.p99)}`],
    ['  authz own p99', (r) => ms(r.coldServer.ms)],
    ['  authz CPU/check', (r) => ms(r.coldCpuMs)],
    ['cold floor p50 / p99', (r) => `${ms(r.coldFloor.p50)} / ${ms(r.coldFloor.p99)}`],
    ['  floor CPU/check', (r) => ms(r.coldFloor.cpuMs)],
    ['warm req/s', (_, i) => warm[i]!.rps.toFixed(0)],
    ['warm p50 / p99', (_, i) => `${ms(warm[i]!.p50)} / ${ms(warm[i]!.p99)}`],
  ];
  const width = 26;
  console.log(
    `\n${'assignments'.padEnd(20)}${running.map((r) => String(r.size).padStart(width)).join('')}`,
  );
  for (const [name, cell] of rows)
    console.log(`${name.padEnd(20)}${running.map((r, i) => cell(r, i).padStart(width)).join('')}`);

  const largest = running.at(-1)!;
  const peakMb = Math.max(
    largest.idleMb,
    largest.coldPeakMb,
    largest.fillPeakMb,
    largest.warmPeakMb,
  );
  const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');
  console.log(
    `\nat ${largest.size} assignments (cold: ${values['cold-concurrency']} callers; warm: ${values.concurrency}):`,
  );
  console.log(
    `  RSS, highest         ${mb(peakMb).padStart(10)}   target <= ${TARGETS.rssMb} MB: ${verdict(peakMb <= TARGETS.rssMb)}`,
  );
  console.log(
    `  start to SERVING     ${`${largest.startMs.toFixed(0)} ms`.padStart(10)}   target <= ${TARGETS.startMs} ms: ${verdict(largest.startMs <= TARGETS.startMs)}`,
  );
  console.log(
    `  cold p99             ${ms(largest.cold.p99).padStart(10)}   target <= ${TARGETS.coldP99Ms} ms: ${verdict(largest.cold.p99 <= TARGETS.coldP99Ms)}   (at the bench's client)`,
  );
  console.log(
    `  cold p99, authz's own${ms(largest.coldServer.ms).padStart(10)}   target <= ${TARGETS.coldP99Ms} ms: ${verdict(largest.coldServer.ms <= TARGETS.coldP99Ms)}   (its rpc duration histogram: ${(largest.coldServer.within5Ms * 100).toFixed(1)}% of the cold checks within 5 ms)`,
  );
  console.log(
    `  cold p99, the floor  ${ms(largest.coldFloor.p99).padStart(10)}   a bare grpc-js server making the same one read: authz's cold p99 is ${(largest.cold.p99 / largest.coldFloor.p99).toFixed(2)} x it`,
  );
  if (running.length > 1)
    console.log(
      `  warm req/s           ${ratio.toFixed(2).padStart(8)} x   the ${running[0]!.size}-assignment run's, median of the rounds' ratios (target >= ${TARGETS.warmRatio}): ${verdict(ratio >= TARGETS.warmRatio)}`,
    );
  console.log(`  [${machine()}]`);
}

function checks(client: authzv1.AuthzServiceClient, batch: authzv1.CheckPermissionRequest[]) {
  return new Promise<authzv1.CheckPermissionsResponse>((resolve, reject) =>
    client.checkPermissions({ checks: batch }, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

function splitAt<T>(xs: T[], at: number): [T[], T[]] {
  return [xs.slice(0, at), xs.slice(at)];
}

/** `count` distinct integers below `size`, in random order. */
function distinctRandom(size: number, count: number): number[] {
  const picked = new Set<number>();
  for (let guard = 0; picked.size < Math.min(count, size) && guard < count * 100; guard++)
    picked.add(Math.floor(Math.random() * size));
  return [...picked];
}

/**
 * `cold` checks against `address` from a client process of its own (bench/lib/cold-client.ts): this
 * one's garbage collections would count as the server's latency. The client first makes the
 * `warmup` checks (JIT on both sides), then `beforeCold` runs, then the cold checks, while `server`
 * (when given) has its RSS sampled. The cold run's result, and the highest RSS seen meanwhile.
 */
async function coldChecks(
  address: string,
  warmup: authzv1.CheckPermissionRequest[],
  cold: authzv1.CheckPermissionRequest[],
  server?: ServiceProcess,
  beforeCold?: () => Promise<void>,
): Promise<[Result, number]> {
  const requestsFile = join(mkdtempSync(join(tmpdir(), 'warden-cold-')), 'requests.json');
  const toJson = (request: authzv1.CheckPermissionRequest) =>
    authzv1.CheckPermissionRequest.toJSON(request);
  writeFileSync(
    requestsFile,
    JSON.stringify({ warmup: warmup.map(toJson), cold: cold.map(toJson) }),
  );
  const coldClient = spawn(
    process.execPath,
    [
      // A small young generation: its scavenges of 5-9 ms with V8's default (measured with a gc
      // PerformanceObserver) were most of the client-side tail; with 1 MB they take about 1 ms.
      '--max-semi-space-size=1',
      '--import',
      TSX_LOADER,
      join(import.meta.dirname, 'lib', 'cold-client.ts'),
      address,
      requestsFile,
      values['cold-concurrency']!,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const answers = createInterface({ input: coldClient.stdout! })[Symbol.asyncIterator]();
    const answer = async (): Promise<string> => {
      const { value, done } = await answers.next();
      if (done) throw new Error('the cold-check client ended without an answer');
      return value;
    };
    if ((await answer()) !== 'warm') throw new Error('the cold-check client did not warm up');
    await beforeCold?.();
    const [result, [peakMb = 0]] = await sampling(server ? [server] : [], async () => {
      coldClient.stdin!.end('go\n');
      return JSON.parse(await answer()) as Result;
    });
    if (result.errors > 0) throw new Error(`cold checks failed: ${result.firstError}`);
    return [result, peakMb];
  } finally {
    coldClient.kill();
    rmSync(dirname(requestsFile), { recursive: true, force: true });
  }
}

/**
 * The cold checks' floor (services/authz-service/test/support/cold-floor-server.ts): a bare
 * grpc-js server making the same one read per check on the same schema, in a process of its own
 * with authz's NODE_OPTIONS, asked by the same client about subjects nobody asked before.
 */
async function floorChecks(
  schema: string,
  nodeOptions: string,
  warmup: authzv1.CheckPermissionRequest[],
  cold: authzv1.CheckPermissionRequest[],
): Promise<Result & { cpuMs: number }> {
  const floor = spawn(
    process.execPath,
    [
      '--import',
      TSX_LOADER,
      join(
        import.meta.dirname,
        '..',
        'services',
        'authz-service',
        'test',
        'support',
        'cold-floor-server.ts',
      ),
      TEST_DATABASE_URL,
      schema,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: nodeOptions } },
  );
  try {
    const lines = createInterface({ input: floor.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    const address = /^listening (\S+)$/.exec(first.done ? '' : first.value)?.[1];
    if (!address) throw new Error('the cold floor server did not start');
    let cpuBefore = 0;
    const [result] = await coldChecks(address, warmup, cold, undefined, async () => {
      cpuBefore = cpuMs({ child: floor });
    });
    return { ...result, cpuMs: (cpuMs({ child: floor }) - cpuBefore) / result.count };
  } finally {
    floor.kill('SIGTERM');
    await new Promise((resolve) =>
      floor.exitCode === null ? floor.once('exit', resolve) : resolve(null),
    );
  }
}

/** Runs `work` while sampling each server's RSS every 100 ms; its result and each one's highest RSS. */
async function sampling<T>(
  servers: ServiceProcess[],
  work: () => Promise<T>,
): Promise<[T, number[]]> {
  const peaks = servers.map(rssMb);
  const sample = () => servers.forEach((s, i) => (peaks[i] = Math.max(peaks[i]!, rssMb(s))));
  const timer = setInterval(sample, 100);
  try {
    const result = await work();
    sample();
    return [result, peaks];
  } finally {
    clearInterval(timer);
  }
}

interface ServerPercentile {
  /** The percentile, interpolated within its histogram bucket (ms). */
  ms: number;
  /** The share of calls that took at most 5 ms (a bucket bound). */
  within5Ms: number;
}

/**
 * authz-service's own CheckPermission durations so far: its warden_rpc_duration_seconds histogram
 * scraped from /metrics, as cumulative counts by bucket bound (s). What the server spends, without
 * the bench client's own event loop and GC, which share the two cores.
 */
async function checkDurations(metricsPort: number): Promise<Map<number, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('warden_rpc_duration_seconds_bucket{')) continue;
    if (!line.includes('AuthzService/CheckPermission"')) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    const count = Number(line.slice(line.lastIndexOf(' ') + 1));
    buckets.set(bound, (buckets.get(bound) ?? 0) + count);
  }
  return buckets;
}

/** The q-th percentile of the calls between two scrapes, linear within its bucket. */
function percentileOf(
  before: Map<number, number>,
  after: Map<number, number>,
  q: number,
): ServerPercentile {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counted = (bound: number) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
  const total = counted(Infinity);
  if (total === 0) return { ms: Number.NaN, within5Ms: Number.NaN };
  const wanted = q * total;
  let lower = 0;
  let below = 0;
  let ms = Infinity;
  for (const bound of bounds) {
    const atOrBelow = counted(bound);
    if (atOrBelow >= wanted) {
      ms =
        bound === Infinity
          ? Infinity
          : (lower + ((wanted - below) / Math.max(atOrBelow - below, 1)) * (bound - lower)) * 1000;
      break;
    }
    lower = bound;
    below = atOrBelow;
  }
  return { ms, within5Ms: counted(0.005) / total };
}

/** utime + stime of a process so far, in ms (Linux /proc; ticks of 10 ms). */
function cpuMs(process: ServiceProcess | { child: { pid?: number } }): number {
  const stat = readFileSync(`/proc/${process.child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** VmRSS of a process, from /proc (Linux), in MB. */
function rssMb(process: ServiceProcess): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${process.child.pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
