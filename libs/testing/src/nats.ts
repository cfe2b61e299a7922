import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { inboxPrefixOf, provisionStreams } from '@warden/events';
import { freePort } from './processes.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
/** The nats-server config every warden deployment uses (it includes warden-auth.conf). */
export const NATS_SERVER_CONFIG = join(ROOT, 'deploy', 'nats', 'nats-server.conf');

export const NATS_USERS = ['user-service', 'session-service', 'authz-service', 'ops'] as const;
export type NatsUser = (typeof NATS_USERS)[number];
export type NatsService = Exclude<NatsUser, 'ops'>;

/** Where forked test workers find the harness's nats-server and its users' passwords. */
export const NATS_URL_VARIABLE = 'WARDEN_TEST_NATS_URL';
export const NATS_PASSWORDS_VARIABLE = 'WARDEN_TEST_NATS_PASSWORDS';

/** The variable nats-server reads a user's password from (`$NATS_PASSWORD_USER_SERVICE`, ...). */
export const passwordVariableOf = (user: NatsUser): string =>
  `NATS_PASSWORD_${user.replace(/-/g, '_').toUpperCase()}`;

export interface WardenNats {
  url: string;
  passwords: Record<NatsUser, string>;
  /** Everything the server logged, for assertions on permission violations. */
  output(): string;
  stop(): Promise<void>;
  /** At process exit, where nothing can be awaited: SIGKILL and remove a temporary store. */
  kill(): void;
}

function natsServerBinary(): string {
  for (const candidate of [process.env.WARDEN_TEST_NATS_SERVER, '/usr/sbin/nats-server'])
    if (candidate && existsSync(candidate)) return candidate;
  return 'nats-server';
}

export interface WardenNatsOptions {
  /** JetStream's store, kept at stop; by default a temporary directory, removed at stop. */
  storeDir?: string;
  /** Where the server's log also goes (appended). */
  logFile?: string;
  /** Replicas of the provisioned streams (`nats.stream_replicas`); one server holds only 1. */
  streamReplicas?: number;
}

/**
 * Starts nats-server with JetStream, warden's users and permissions and fresh random passwords,
 * on a free loopback port; the three streams are provisioned as `ops`.
 */
export function startWardenNats(options: WardenNatsOptions = {}): Promise<WardenNats> {
  return retryOnPortTaken(() => startOnce(options));
}

/**
 * Starts again (3 attempts in all) when a port was taken: a free port is released before
 * nats-server binds it, and another process may take it first.
 */
export async function retryOnPortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}

async function startOnce(options: WardenNatsOptions): Promise<WardenNats> {
  const port = await freePort();
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'warden-nats-'));
  const passwords = newNatsPasswords();
  const server = spawnNatsServer(
    ['-a', '127.0.0.1', '-p', String(port), '-sd', storeDir],
    passwords,
    options.logFile,
  );
  const removeStore = () => {
    if (!options.storeDir) rmSync(storeDir, { recursive: true, force: true });
  };
  const stop = async () => {
    await server.stop();
    removeStore();
  };
  const kill = () => {
    server.kill();
    removeStore();
  };
  const url = `nats://127.0.0.1:${port}`;
  try {
    await server.listening(port);
    await provisionAsOps({ url, passwords }, options.streamReplicas ?? 1);
  } catch (error) {
    await stop();
    throw new Error(
      `warden nats-server did not start: ${(error as Error).message}\n${server.output()}`,
    );
  }
  server.unref();
  return { url, passwords, output: server.output, stop, kill };
}

/** Fresh random passwords for warden's NATS users. */
export function newNatsPasswords(): Record<NatsUser, string> {
  // nats-server reads a `$VAR` as a config value: a leading letter and hex keep it a plain string.
  return Object.fromEntries(
    NATS_USERS.map((user) => [user, `w${randomBytes(20).toString('hex')}`]),
  ) as Record<NatsUser, string>;
}

/** One nats-server process with warden's config and users, its output kept in memory. */
export interface NatsServerProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once `port` accepts connections; rejects if the server exits or cannot start. */
  listening(port: number): Promise<void>;
  /** SIGTERM, SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL, without waiting (at process exit). */
  kill(): void;
  /** The server never keeps its parent alive: the parent stops or kills it on the way out. */
  unref(): void;
}

/** Starts nats-server with deploy/nats's config (warden's users), `args` and these passwords. */
export function spawnNatsServer(
  args: string[],
  passwords: Record<NatsUser, string>,
  logFile?: string,
): NatsServerProcess {
  const env = Object.fromEntries(NATS_USERS.map((u) => [passwordVariableOf(u), passwords[u]]));
  const child: ChildProcess = spawn(
    natsServerBinary(),
    ['-c', NATS_SERVER_CONFIG, ...args, ...(logFile ? ['-l', logFile] : [])],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-500_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const running = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(new Error(`cannot start nats-server (${NATS_SERVER_INSTALL_HINT}): ${error}`)),
    ),
  );
  spawnFailed.catch(() => undefined);
  return {
    child,
    output: () => output,
    listening: (port) => Promise.race([waitForPort(port, () => !running()), spawnFailed]),
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (running()) child.kill('SIGKILL');
    },
    unref() {
      child.unref();
      for (const stream of [child.stdout, child.stderr])
        (stream as { unref?: () => void }).unref?.();
    },
  };
}

/** Where a missing nats-server comes from. */
export const NATS_SERVER_INSTALL_HINT =
  'install it: apt-get install nats-server (Debian/Ubuntu), brew install nats-server, or a release from https://github.com/nats-io/nats-server/releases; WARDEN_TEST_NATS_SERVER names another binary';

/** Creates or updates warden's streams as `ops`, with `replicas` replicas each. */
export async function provisionAsOps(
  server: { url: string; passwords: Record<NatsUser, string> },
  replicas: number,
): Promise<void> {
  const nc = await connect({
    ...natsConnectOptionsFor(server, 'ops'),
    name: 'harness',
  });
  try {
    await provisionStreams(await jetstreamManager(nc), { replicas });
  } finally {
    await nc.close();
  }
}

async function waitForPort(port: number, dead: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (dead()) throw new Error('nats-server exited');
    const open = await new Promise<boolean>((resolve) => {
      const socket = connectTcp(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing answers on 127.0.0.1:${port} after 10 s`);
}

/** A nats-server (or cluster) with warden's users: its URL (comma-separated for several) and passwords. */
export interface NatsTarget {
  url: string;
  passwords: Record<NatsUser, string>;
}

/** Options for `connect()` to `target` as one of warden's users; every server of a URL list. */
export function natsConnectOptionsFor(target: NatsTarget, user: NatsUser): NodeConnectionOptions {
  return {
    servers: target.url.split(','),
    user,
    pass: target.passwords[user],
    inboxPrefix: inboxPrefixOf(user),
  };
}

/** The environment a spawned service process needs to connect to `target` as itself. */
export function natsEnvFor(target: NatsTarget, service: NatsService): Record<string, string> {
  return {
    NATS_URL: target.url,
    WARDEN_NATS_USER: service,
    WARDEN_NATS_PASSWORD: target.passwords[service],
  };
}

/** Makes this process's harness variables point at `nats` (forked test workers inherit them). */
export function exportNatsEnv(nats: Pick<WardenNats, 'url' | 'passwords'>): void {
  process.env[NATS_URL_VARIABLE] = nats.url;
  process.env[NATS_PASSWORDS_VARIABLE] = JSON.stringify(nats.passwords);
}

let started: Promise<void> | undefined;

/**
 * The harness's nats-server: the one the test run's global setup started, or, in a process run
 * outside it (a benchmark, a script), one started now for this process and stopped at its exit.
 */
export function ensureTestNats(): Promise<void> {
  if (process.env[NATS_URL_VARIABLE] && process.env[NATS_PASSWORDS_VARIABLE])
    return Promise.resolve();
  started ??= startWardenNats().then((nats) => {
    exportNatsEnv(nats);
    process.once('exit', () => nats.kill());
    for (const signal of ['SIGINT', 'SIGTERM'] as const)
      process.once(signal, () => void nats.stop().then(() => process.exit(130)));
  });
  started.catch(() => (started = undefined));
  return started;
}

function harness(): NatsTarget {
  const url = process.env[NATS_URL_VARIABLE];
  const passwords = process.env[NATS_PASSWORDS_VARIABLE];
  if (!url || !passwords)
    throw new Error(
      `${NATS_URL_VARIABLE}/${NATS_PASSWORDS_VARIABLE} are not set: run under vitest (its global setup starts nats-server) or await ensureTestNats() first`,
    );
  return { url, passwords: JSON.parse(passwords) as Record<NatsUser, string> };
}

/** The harness nats-server's URL. */
export function testNatsUrl(): string {
  return harness().url;
}

/** Options for `connect()` as one of warden's NATS users (`ops` for harness chores). */
export function natsConnectOptions(user: NatsUser): NodeConnectionOptions {
  return { ...natsConnectOptionsFor(harness(), user), name: `test:${user}` };
}

/** The environment a spawned service process needs to connect as itself. */
export function natsEnv(service: NatsService): Record<string, string> {
  return natsEnvFor(harness(), service);
}
