import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** What the server kit observes call durations with: a prom-client Histogram, or {@link RpcDurations}. */
export interface DurationHistogram {
  labels(labels: { method: string; code: string }): { observe(seconds: number): void };
}

export interface Metrics {
  registry: Registry;
  rpcDuration: RpcDurations;
}

export const RPC_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5,
] as const;

export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const rpcDuration = new RpcDurations(
    'warden_rpc_duration_seconds',
    'gRPC handling time by method and status code',
    RPC_DURATION_BUCKETS,
  );
  registry.registerMetric(rpcDuration as unknown as Histogram);
  return { registry, rpcDuration };
}

/** One (method, code) series: counts per bucket (not cumulative; past the last: +Inf only). */
class DurationSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<{ method: string; code: string }>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = bounds.map(() => 0);
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++)
      if (seconds <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A histogram by method and code for the server kit's every call, exported exactly as prom-client's
 * Histogram exports one (same series, order and text), without its per-observation label check
 * and label hashing: each series is looked up once per (method, code) and then kept by the kit.
 */
export class RpcDurations implements DurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, DurationSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  labels(labels: { method: string; code: string }): DurationSeries {
    const key = `${labels.method}\u0000${labels.code}`;
    let series = this.series.get(key);
    if (!series) {
      series = new DurationSeries({ method: labels.method, code: labels.code }, this.buckets);
      this.series.set(key, series);
    }
    return series;
  }

  /** Zeroes every series (kept: the kit holds them), as prom-client forgets its until observed. */
  reset(): void {
    for (const series of this.series.values()) series.reset();
  }

  /** As prom-client's Histogram.getForPromString: bucket labels apart from the series' (shared) ones. */
  getForPromString() {
    const values: Array<{
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
      exemplar?: null;
    }> = [];
    for (const series of this.series.values()) {
      // prom-client exports a series from its first observation on.
      if (series.count === 0) continue;
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({
          labels: { le: bound },
          sharedLabels: { ...series.labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
          exemplar: null,
        });
      });
      values.push(
        {
          labels: { le: '+Inf' },
          sharedLabels: { ...series.labels },
          value: series.count,
          metricName: `${this.name}_bucket`,
          exemplar: null,
        },
        {
          labels: {},
          sharedLabels: { ...series.labels },
          value: series.sum,
          metricName: `${this.name}_sum`,
        },
        {
          labels: {},
          sharedLabels: { ...series.labels },
          value: series.count,
          metricName: `${this.name}_count`,
        },
      );
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  /** As prom-client's Histogram.get: the shared labels spread into each value's. */
  get() {
    const data = this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...value }) => ({
        ...value,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }
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
