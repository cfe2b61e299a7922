import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitForServing } from '@warden/grpc';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

const handedOut = new Set<number>();

/**
 * A free loopback port: bind 0, read it, release it. Never the same port twice in one process, so
 * two ports asked for in a row cannot be one (the kernel may hand a just-released port out again).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
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
 * Starts `services/<service>/src/<entry>` under tsx with the given environment. With
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
  const program = packages
    ? [join('dist', entry.replace(/\.ts$/, '.js'))]
    : ['--import', TSX_LOADER, join('src', entry)];
  const cwd = packages ? join(packages, service) : join(ROOT, 'services', service);
  if (!existsSync(join(cwd, program.at(-1)!)))
    throw new Error(
      `no ${join(cwd, program.at(-1)!)} (WARDEN_STACK_PACKAGES: see scripts/package.sh)`,
    );
  const child = spawn(process.execPath, [...profiling, ...program, ...args], {
    cwd,
    env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
