import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  rpcDuration: Histogram<'method' | 'code'>;
}

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const rpcDuration = new Histogram({
    name: 'warden_rpc_duration_seconds',
    help: 'gRPC handling time by method and status code',
    labelNames: ['method', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [registry],
  });
  return { registry, rpcDuration };
}

/** A counter on a service's registry, so adapters can count without importing prom-client. */
export function registerCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** A GET route served beside /metrics, e.g. session-service's /.well-known/jwks.json. */
export type HttpRoute = () => { body: string; headers: Record<string, string> };

/** Prometheus text on GET /metrics, and `routes` by exact path. Port 0 picks a free port (tests). */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
  routes: Readonly<Record<string, HttpRoute>> = {},
): Promise<Server> {
  const server = createServer((request, response) => {
    const route = request.method === 'GET' ? routes[request.url ?? ''] : undefined;
    if (route) {
      try {
        const { body, headers } = route();
        response.writeHead(200, headers).end(body);
      } catch {
        response.writeHead(500).end();
      }
      return;
    }
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, host, resolve),
  );
  return server;
}
