import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitForServing } from '@warden/grpc';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** Where the suite's global setup tells its forked workers the services' built trees are. */
export const SERVICE_BUILDS_VARIABLE = 'WARDEN_TEST_SERVICE_BUILDS';

/**
 * Bundles every service once (`scripts/build.mjs --tree`, about a second) into a temporary
 * directory and points startServiceProcess at it for this process and the workers it forks: a
 * service process then starts as `node dist/<entry>.js`, as in production, instead of tsx
 * resolving and transpiling a few hundred files in each of the suite's hundreds of processes
 * (half the CPU of each start). When the sources do not bundle (someone's edit in progress), the
 * processes run under tsx and the tests that start them show the error. Returns the cleanup.
 */
export function useServiceBuilds(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'warden-test-services-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--tree', dir], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const { stderr } = error as { stderr?: Buffer };
    console.error(
      `scripts/build.mjs --tree failed, service processes run under tsx:\n${stderr?.toString() ?? error}`,
    );
    return () => undefined;
  }
  process.env[SERVICE_BUILDS_VARIABLE] = dir;
  return () => {
    delete process.env[SERVICE_BUILDS_VARIABLE];
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Service processes this process started that still run. */
const running = new Set<ChildProcess>();
let reaping = false;

/**
 * Service processes end with the process that started them: a test worker ends its file, or
 * vitest stops it with SIGTERM (after a hook timed out while a stack was still starting, when
 * the file's afterAll had no stack to stop). They used to serve, sweep and consume on as orphans,
 * loading the machine for every later file and run.
 */
function endWithThisProcess(child: ChildProcess): void {
  if (!reaping) {
    reaping = true;
    const killAll = () => {
      for (const c of running) c.kill('SIGKILL');
    };
    process.once('exit', killAll);
    process.once('SIGTERM', () => {
      killAll();
      // Another handler (ensureTestNats's) ends the process itself; else end as SIGTERM would.
      if (process.listenerCount('SIGTERM') === 0) process.exit(143);
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

const handedOut = new Set<number>();

/**
 * Where the kernel picks the local ports of outgoing connections (Linux's ip_local_port_range,
 * 32768-60999 by default): a port handed out from there can be taken by any process's next
 * connection (to Postgres, NATS, a peer) between our check and the service's bind, and the service
 * dies with EADDRINUSE (seen in CI). Handed-out ports come from below it instead.
 */
function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
const PORTS_FROM = 20_000;
const PORTS_BELOW = ephemeralLow();
/**
 * vitest's workers run at once, each with its own handedOut: each picks from a stripe of its own
 * (by VITEST_POOL_ID, unique among the workers running), so two cannot hand out one port before
 * either binds it. Other processes (a benchmark, the global setup) take stripe 0.
 */
const STRIPES = 8;
const STRIPE = Number(process.env.VITEST_POOL_ID ?? 0) % STRIPES || 0;

/** Whether `port` can be bound on loopback now (0: any free port); the bound port, or undefined. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A free loopback port, never the same twice in one process (the kernel may hand a just-released
 * port out again). Picked at random in this process's stripe below the ephemeral range
 * (PORTS_FROM..PORTS_BELOW) and bound once to check it is free, so no outgoing connection and no
 * other test worker can take it before the service binds it; where that range is empty or
 * exhausted, any port the kernel gives.
 */
export async function freePort(): Promise<number> {
  const span = Math.floor((PORTS_BELOW - PORTS_FROM) / STRIPES);
  const from = PORTS_FROM + STRIPE * span;
  for (let attempt = 0; span > 0 && attempt < 200; attempt++) {
    const candidate = from + Math.floor(Math.random() * span);
    if (handedOut.has(candidate)) continue;
    // Reserved before the bind is awaited: concurrent calls drawing the same port skip it.
    handedOut.add(candidate);
    if ((await tryBind(candidate)) !== undefined) return candidate;
    handedOut.delete(candidate);
  }
  for (;;) {
    const port = await tryBind(0);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything it printed so far (pino JSON lines), for assertions and failure messages. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL after `graceMs`); resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * The bundles' processes run without --enable-source-maps unless WARDEN_TEST_SOURCE_MAPS=1: with
 * it, node reads the map of every package the process loads (the workspace's node_modules keep
 * theirs; the production tree drops them) and decodes the bundle's 0.5 MB map at the first error
 * stack, about 0.2 s of CPU a process, 1.3 s a stack, over the suite's few hundred processes.
 * Without it a stack trace names the bundle's lines (dist/main.js, readable, unminified); with
 * it, the TS files' lines, as in production.
 */
const sourceMaps = (): string[] =>
  process.env.WARDEN_TEST_SOURCE_MAPS === '1' ? ['--enable-source-maps'] : [];

/**
 * Starts `services/<service>/src/<entry>` with the given environment: under the test suite from
 * the bundle useServiceBuilds made (same sources, built as for production), else under tsx. With
 * WARDEN_STACK_PACKAGES=<dir>, it runs the production tree instead, as the image does:
 * `node dist/<entry>.js` in `<dir>/<service>`, made by `bash scripts/package.sh <service> <dir>/<service>`.
 * Memory is measured that way: tsx's loader and transpiler alone cost each process tens of MB.
 */
export function startServiceProcess(
  service: string,
  entry: string,
  env: Record<string, string>,
  /** The entry's command-line arguments (e.g. migrate's `--wait`). */
  args: readonly string[] = [],
): ServiceProcess {
  // node itself with tsx's loader (no tsx CLI wrapper): signals reach the service, and a SIGKILL
  // leaves no orphan behind to keep consuming events after the test.
  // WARDEN_CPU_PROFILE_DIR=<dir>: each service process writes a V8 CPU profile there on exit.
  const profile = process.env.WARDEN_CPU_PROFILE_DIR;
  const profiling = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const packages = process.env.WARDEN_STACK_PACKAGES;
  const built = process.env[SERVICE_BUILDS_VARIABLE];
  const bundle = join('dist', entry.replace(/\.ts$/, '.js'));
  const program = packages
    ? [bundle]
    : built
      ? [...sourceMaps(), join(built, service, bundle)]
      : ['--import', TSX_LOADER, join('src', entry)];
  const cwd = packages ? join(packages, service) : join(ROOT, 'services', service);
  const file = resolve(cwd, program.at(-1)!);
  if (!existsSync(file))
    throw new Error(
      `no ${file} (${packages ? 'WARDEN_STACK_PACKAGES: see scripts/package.sh' : 'built by useServiceBuilds'})`,
    );
  const child = spawn(process.execPath, [...profiling, ...program, ...args], {
    cwd,
    env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  endWithThisProcess(child);
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    name: `${service}/${entry}`,
    child,
    output: () => output,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits until `address` answers SERVING (failing early, with its output, if the process dies). */
export async function waitServing(
  address: string,
  process?: ServiceProcess,
  timeoutMs = 30_000,
): Promise<void> {
  try {
    await waitForServing(address, {
      timeoutMs,
      alive: () => {
        if (process && process.child.exitCode !== null)
          throw new Error(`${process.name} exited with ${process.child.exitCode}`);
      },
    });
  } catch (error) {
    throw new Error(
      `${(error as Error).message}${process ? `:\n${process.output().slice(-4000)}` : ''}`,
    );
  }
}
