import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  natsConnectOptionsFor,
  newNatsPasswords,
  provisionAsOps,
  retryOnPortTaken,
  spawnNatsServer,
  type NatsServerProcess,
  type NatsTarget,
  type NatsUser,
} from './nats.js';
import { freePort } from './processes.js';
import { waitFor } from './wait-for.js';

/** One node of a loopback cluster: its name (`server_name`), client URL and process. */
export interface NatsClusterNode {
  readonly name: string;
  readonly url: string;
  /** The running process's pid; undefined while the node is down. */
  pid(): number | undefined;
  /** SIGKILL by pid (no lame duck, no flush): resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts the node again on the same ports and store; resolves once it is healthy and current. */
  restart(): Promise<void>;
  /** What the node logged since it last started. */
  output(): string;
}

export interface WardenNatsCluster extends NatsTarget {
  /** Every node's client URL, comma-separated: what NATS_URL takes. */
  url: string;
  passwords: Record<NatsUser, string>;
  nodes: NatsClusterNode[];
  /** Replicas the streams were provisioned with (`nats.stream_replicas`). */
  streamReplicas: number;
  /** The node currently leading `stream` (JetStream's placement), by index in `nodes`. */
  streamLeader(stream: string): Promise<number>;
  /** Stops every node (SIGTERM) and removes a temporary store. */
  stop(): Promise<void>;
  /** At process exit, where nothing can be awaited: SIGKILL every node. */
  kill(): void;
}

export interface WardenNatsClusterOptions {
  /** Nodes in the cluster (3). */
  size?: number;
  /** Replicas of warden's streams, provisioned as ops (`nats.stream_replicas`; the size). */
  streamReplicas?: number;
  /** Where node i keeps JetStream (`<storeDir>/n<i+1>`), kept at stop; default a temporary dir. */
  storeDir?: string;
  /** Where node i also logs (`<logDir>/n<i+1>.log`, appended). */
  logDir?: string;
}

/**
 * A JetStream cluster of nats-server processes on loopback with warden's users and permissions
 * (deploy/nats): each node on free client, route and monitoring ports with its own store and
 * `server_name`, every route listed on every node, and warden's streams provisioned as `ops` with
 * `streamReplicas` replicas once the cluster has a JetStream leader.
 */
export function startWardenNatsCluster(
  options: WardenNatsClusterOptions = {},
): Promise<WardenNatsCluster> {
  return retryOnPortTaken(() => startClusterOnce(options));
}

async function startClusterOnce(options: WardenNatsClusterOptions): Promise<WardenNatsCluster> {
  const size = options.size ?? 3;
  const streamReplicas = options.streamReplicas ?? size;
  const storeRoot = options.storeDir ?? mkdtempSync(join(tmpdir(), 'warden-nats-cluster-'));
  const passwords = newNatsPasswords();
  const ports: Array<{ client: number; route: number; monitor: number }> = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`).join(',');
  const url = ports.map((p) => `nats://127.0.0.1:${p.client}`).join(',');

  const processes: Array<NatsServerProcess | undefined> = [];
  const start = async (i: number) => {
    const name = `n${i + 1}`;
    const storeDir = join(storeRoot, name);
    mkdirSync(storeDir, { recursive: true });
    const server = spawnNatsServer(
      [
        ...['-a', '127.0.0.1', '-p', String(ports[i]!.client), '-m', String(ports[i]!.monitor)],
        ...['-sd', storeDir, '--server_name', name, '--cluster_name', 'warden'],
        ...['--cluster', `nats://127.0.0.1:${ports[i]!.route}`, '--routes', routes],
      ],
      passwords,
      options.logDir ? join(options.logDir, `${name}.log`) : undefined,
    );
    processes[i] = server;
    server.unref();
    await server.listening(ports[i]!.client);
  };
  // JetStream answers /healthz with 200 once the node has a meta leader and its streams are current.
  const healthy = async (i: number) => {
    const state = await waitFor(
      async () => {
        if (processes[i]?.child.exitCode !== null) return 'exited';
        const response = await fetch(`http://127.0.0.1:${ports[i]!.monitor}/healthz`).catch(
          () => undefined,
        );
        return response?.ok === true && 'healthy';
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `nats node n${i + 1} healthy` },
    );
    if (state === 'exited') throw new Error(`nats node n${i + 1} exited`);
  };

  const stop = async () => {
    await Promise.all(processes.map((p) => p?.stop()));
    if (!options.storeDir) rmSync(storeRoot, { recursive: true, force: true });
  };
  const target = { url, passwords };
  try {
    await Promise.all(ports.map((_, i) => start(i)));
    await Promise.all(ports.map((_, i) => healthy(i)));
    // Right after the meta leader is elected, a stream create may still answer 503: retry.
    await waitFor(
      () =>
        provisionAsOps(target, streamReplicas).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 30_000, intervalMs: 250, what: 'streams provisioned on the cluster' },
    );
  } catch (error) {
    const output = processes.map((p, i) => `--- n${i + 1}\n${p?.output().slice(-3000)}`);
    await stop();
    throw new Error(
      `nats cluster did not start: ${(error as Error).message}\n${output.join('\n')}`,
    );
  }

  const nodes: NatsClusterNode[] = ports.map((port, i) => ({
    name: `n${i + 1}`,
    url: `nats://127.0.0.1:${port.client}`,
    pid: () => {
      const child = processes[i]?.child;
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async kill() {
      const child = processes[i]?.child;
      if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid, 'SIGKILL');
      await exited;
    },
    async restart() {
      await nodes[i]!.kill();
      await start(i);
      await healthy(i);
    },
    output: () => processes[i]?.output() ?? '',
  }));

  return {
    url,
    passwords,
    nodes,
    streamReplicas,
    async streamLeader(stream) {
      const nc = await connect({ ...natsConnectOptionsFor(target, 'ops'), name: 'harness' });
      try {
        const info = await (await jetstreamManager(nc)).streams.info(stream);
        const leader = nodes.findIndex((node) => node.name === info.cluster?.leader);
        if (leader < 0) throw new Error(`${stream} has no leader among ${url}`);
        return leader;
      } finally {
        await nc.close();
      }
    },
    stop,
    kill() {
      for (const p of processes) p?.kill();
      if (!options.storeDir) rmSync(storeRoot, { recursive: true, force: true });
    },
  };
}
