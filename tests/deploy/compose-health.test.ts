import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveHealth } from '@warden/grpc';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here: compose's healthchecks are checked by running their command against
// a real grpc.health.v1 server (the one workers serve), and the NATS cluster by its wiring.
const ROOT = join(import.meta.dirname, '..', '..');
type ComposeService = {
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const SERVICES = { user: 50051, session: 50052, authz: 50053 } as const;
const NODES = ['nats', 'nats-2', 'nats-3'];

const grpcPort = (service: string): number =>
  (
    parse(readFileSync(join(ROOT, 'services', service, 'config.yaml'), 'utf8')) as {
      grpc: { port: number };
    }
  ).grpc.port;

/**
 * Runs a compose `CMD` healthcheck's node command here, against `address` instead; its exit code.
 * Not spawnSync: the health server under test answers from this process's event loop.
 */
function runCheck(test: string[], address: string): Promise<number | null> {
  const [cmd, program, ...args] = test;
  expect([cmd, program]).toEqual(['CMD', 'node']);
  // The image has grpc-js in /app/node_modules; tests/ has it too.
  const child = spawn(process.execPath, [...args.slice(0, -1), address], {
    cwd: join(ROOT, 'tests'),
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('docker-compose.yml healthchecks', () => {
  it('checks every server on its gRPC port and every worker on its worker.health_port', () => {
    for (const [short, port] of Object.entries(SERVICES)) {
      expect(grpcPort(`${short}-service`)).toBe(port);
      const server = compose.services[`${short}-service`]!;
      expect(server.healthcheck!.test.at(-1)).toBe(`127.0.0.1:${port}`);
      const worker = compose.services[`${short}-worker`]!;
      const healthPort = worker.environment!.WARDEN_WORKER_HEALTH_PORT;
      expect(Number(healthPort)).toBeGreaterThan(0);
      expect(worker.healthcheck!.test.at(-1)).toBe(`127.0.0.1:${healthPort}`);
    }
  });

  it('passes only while a real grpc.health.v1 server answers SERVING', async () => {
    const test = compose.services['user-worker']!.healthcheck!.test;
    const health = await serveHealth('127.0.0.1', 0);
    const address = `127.0.0.1:${health.port}`;
    try {
      expect(await runCheck(test, address)).toBe(0);
      health.setServing(false);
      expect(await runCheck(test, address)).toBe(1);
    } finally {
      health.close();
    }
    expect(await runCheck(test, address)).toBe(1);
  }, 60_000);
});

describe('docker-compose.yml NATS cluster', () => {
  it('runs three nodes routed to each other, and every client knows all three', () => {
    const routes = NODES.map((node) => `nats://${node}:6222`).join(',');
    for (const node of NODES) {
      const command = compose.services[node]!.command!;
      expect(command).toEqual(expect.arrayContaining(['-c', '/etc/nats/nats-server.conf']));
      expect(command[command.indexOf('--server_name') + 1]).toBe(node);
      expect(command[command.indexOf('--cluster_name') + 1]).toBe('warden');
      expect(command[command.indexOf('--routes') + 1]).toBe(routes);
    }
    const urls = NODES.map((node) => `nats://${node}:4222`).join(',');
    expect(compose.services['nats-provision']!.environment!.NATS_URL).toBe(urls);
    for (const short of Object.keys(SERVICES))
      for (const role of [`${short}-service`, `${short}-worker`]) {
        const service = compose.services[role]!;
        expect(service.environment!.NATS_URL, role).toBe(urls);
        for (const node of NODES)
          expect(service.depends_on![node]!.condition).toBe('service_healthy');
      }
  });

  it('provisions the streams with the replicas the workers expect (nats.stream_replicas)', () => {
    const replicas = compose.services['nats-provision']!.environment!.REPLICAS;
    expect(replicas).toBe('3');
    for (const short of Object.keys(SERVICES))
      expect(compose.services[`${short}-worker`]!.environment!.WARDEN_NATS_STREAM_REPLICAS).toBe(
        replicas,
      );
  });
});
