import type { Server } from 'node:http';
import { idempotencyKeyring, type IdempotencyKeyring } from '@warden/bus';
import type { ServiceConfig } from '@warden/config';
import { createPool, isDatabaseUnavailable, migrate, waitForMigrations } from '@warden/db';
import { connectNats, type EventMetrics, type NatsClients } from '@warden/events';
import {
  clientOptions,
  createMetrics,
  serverSecurity,
  serveHealth,
  serveMetrics,
  type HttpRoute,
  type ClientKitOptions,
  type GrpcServer,
  type Metrics,
  type ServerKitOptions,
} from '@warden/grpc';
import { createLogger, startTracing, type Logger, type Tracer } from '@warden/logger';
import type pg from 'pg';
import { DependencyMonitor } from './dependency-monitor.js';
import { eventMetrics } from './event-metrics.js';
import { migrateArgs } from './migrate-args.js';
import { every, retry, type RetryOptions } from './every.js';
import { poolMetrics } from './pool-metrics.js';
import { exitOnSignal, failStartup, redactUrls, Shutdown } from './shutdown.js';

export type RuntimeConfig = ServiceConfig;
export type ProcessRole = 'server' | 'worker' | 'cli' | 'migrate';
/** What a service's processes share: everything but the role. */
export type ServiceSpec<C extends RuntimeConfig, P> = Omit<ProcessSpec<C, P>, 'role'>;

export interface ProcessSpec<C extends RuntimeConfig, P> {
  service: string;
  role: ProcessRole;
  loadConfig(): C;
  migrations: {
    dir: string;
    /** Data fixes after the schema is current (e.g. rewriting stored values). */
    after?: (pool: pg.Pool, schema: string, log: (line: string) => void) => Promise<void>;
  };
  /** A query that fails unless the schema is there, run once at start. */
  readyQuery: string;
  /**
   * Role migrate: its command-line arguments. None applies the migrations (the release's Job);
   * `--wait [--timeout=10m]` (a rollout's init container) waits until the Job has applied every
   * migration of this build, applying none.
   */
  args?: readonly string[];
  /**
   * The service's Prisma client over the process's pool; disconnected before the pool ends. A
   * service that queries through pg alone returns undefined: its process then never loads the
   * generated client (some 9 MB of idle RSS).
   */
  prisma(pool: pg.Pool, schema: string): P;
}

export interface PeerClientOptions extends ClientKitOptions {
  nc: NatsClients['nc'];
  logger: Logger;
  cacheTtlMs: number;
  /** The client's cache bound (`cache_max`), when the section sets one; else the client's default. */
  maxEntries?: number;
  /** Counts the peer's events its feed drops (warden_events_rejected_total). */
  metrics: EventMetrics;
}

export type ClientExtra = Pick<ClientKitOptions, 'deadlineMs' | 'maxAttempts'>;

/** The server kit options every service's server shares (identity, limits, metrics). */
export type CommonServerOptions = Omit<
  ServerKitOptions,
  'serviceName' | 'resolveUser' | 'descriptorSetPath'
>;

/** One started process: what it holds, and how it adds work and steps to stop that work. */
export interface WardenProcess<C extends RuntimeConfig, P> {
  config: C;
  logger: Logger;
  metrics: Metrics;
  spans: Tracer;
  pool: pg.Pool;
  prisma: P;
  /** Connects once (later calls share it); drained after the process's own stop steps. */
  nats(): Promise<NatsClients>;
  /** Options for an outbound gRPC client: TLS with this service's certificate, else its key. */
  client(address: string, extra?: ClientExtra): ClientKitOptions;
  serverOptions(): CommonServerOptions;
  /** Options of a client of a peer service that follows its events (authz-client, session-client). */
  peer(peer: {
    address: string;
    cache_ttl: number;
    cache_max?: number;
  }): Promise<PeerClientOptions>;
  /** The keys of idempotency records; production refuses to start without idempotency.secret. */
  idempotencyKeys(): IdempotencyKeyring;
  /** `every` that stops with the process. */
  every(name: string, intervalMs: number, task: () => Promise<unknown>): void;
  /** `retry` in the background; its waiting ends when the process stops, and stop awaits it. */
  retry<T>(name: string, attempt: () => Promise<T>, o: RetryOptions): Promise<T | undefined>;
  /** Steps run at shutdown in reverse order of registration, before the fixed tail. */
  onStop(name: string, stop: () => Promise<unknown>): void;
  /** Listens; at shutdown stops serving and gives calls grpc.shutdown_grace to finish. */
  serve(server: GrpcServer): Promise<number>;
  /**
   * A worker's grpc.health.v1 on grpc.host:port (plaintext; 0: none, returns 0): "" and
   * `<service>-worker` follow the dependencies like a server's readiness, `liveness` does not.
   */
  serveHealth(port: number): Promise<number>;
  /** Prometheus text on GET /metrics (and `routes`) at metrics.host:port; returns the port bound. */
  serveMetrics(port: number, routes?: Readonly<Record<string, HttpRoute>>): Promise<number>;
  /** Runs every stop step now (for processes that end on their own: cli, migrate). */
  close(): Promise<number>;
}

/**
 * Config, logger, spans, metrics, the one pg pool (migrated when configured, checked with
 * `readyQuery`) and Prisma over it; SIGTERM runs the stop steps. Any failure exits the process
 * with one line on stderr (connection strings without their password).
 */
export async function startProcess<C extends RuntimeConfig, P extends PrismaLike | undefined>(
  spec: ProcessSpec<C, P>,
): Promise<WardenProcess<C, P>> {
  const label = spec.role === 'server' ? spec.service : `${spec.service} ${spec.role}`;
  let config: C;
  let waitForMigrationsMs: number | undefined;
  try {
    if (spec.role === 'migrate') ({ waitForMigrationsMs } = migrateArgs(spec.args ?? []));
    config = spec.loadConfig();
  } catch (error) {
    return failStartup(label, error);
  }
  const processName = spec.role === 'server' ? spec.service : `${spec.service}-${spec.role}`;
  const logger = createLogger({ service: spec.service, level: config.log.level }).child({
    process: spec.role,
  });
  const spans = startTracing({
    endpoint: config.telemetry.otlp_endpoint,
    serviceName: spec.service,
    logger,
  });
  const metrics = createMetrics(processName);
  const shutdown = new Shutdown();
  const { database } = config;
  const pool = createPool({
    url: database.url,
    schema: database.schema,
    poolSize: database.pool_size,
    applicationName: `${spec.service}:${spec.role}`,
  });
  // A dropped idle connection must not take the process down; the pool replaces it.
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection lost'));
  poolMetrics(metrics.registry, pool);
  try {
    // The migrations Job (role migrate) applies them whatever migrate_on_start says.
    if (waitForMigrationsMs !== undefined) {
      await waitForMigrations(pool, {
        schema: database.schema,
        migrationsDir: spec.migrations.dir,
        timeoutMs: waitForMigrationsMs,
        log: (line) => logger.info(line),
      });
    } else if (spec.role === 'migrate' || database.migrate_on_start) {
      const log = (line: string) => logger.info(line);
      await migrate(pool, { schema: database.schema, migrationsDir: spec.migrations.dir, log });
      await spec.migrations.after?.(pool, database.schema, log);
    }
    await pool.query(spec.readyQuery);
  } catch (error) {
    await pool.end().catch(() => undefined);
    return failStartup(
      label,
      new Error(`database ${redactUrls(database.url)}: ${(error as Error).message}`),
    );
  }
  const prisma = spec.prisma(pool, database.schema);

  let nats: Promise<NatsClients> | undefined;
  let metricsServer: Server | undefined;
  shutdown.atEnd('close metrics', async () => {
    const server = metricsServer;
    if (server) await new Promise((resolve) => server.close(resolve));
  });
  shutdown.atEnd('drain NATS', async () => {
    if (nats) await (await nats).nc.drain();
  });
  shutdown.atEnd('disconnect Prisma', async () => prisma?.$disconnect());
  shutdown.atEnd('close database pool', () => pool.end());
  shutdown.atEnd('flush spans', () => spans.shutdown());
  const connectOnce = () => {
    nats ??= connectNats(config.nats, processName, logger).catch((error: unknown) =>
      failStartup(
        label,
        new Error(`nats ${redactUrls(config.nats.url)}: ${(error as Error).message}`),
      ),
    );
    return nats;
  };
  if (spec.role === 'server' || spec.role === 'worker')
    exitOnSignal(shutdown, logger, config.grpc.shutdown_grace + 20_000);

  // Readiness: Postgres by a cheap query on the process's pool, NATS (once connected) by a round trip.
  const watchDependencies = (onChange: (healthy: boolean) => void) => {
    const monitor = new DependencyMonitor({
      dependencies: [
        { name: 'postgres', probe: () => pool.query('SELECT 1') },
        {
          name: 'nats',
          async probe() {
            if (!nats) return;
            const { nc } = await nats;
            if (nc.isClosed()) throw new Error('connection closed');
            await nc.rtt();
          },
        },
      ],
      intervalMs: config.health.dependency_interval,
      graceMs: config.health.dependency_grace,
      timeoutMs: Math.min(DEPENDENCY_PROBE_TIMEOUT_MS, config.health.dependency_grace),
      onChange: (healthy) => {
        logger.warn({ ready: healthy }, healthy ? 'ready again' : 'not ready: dependency down');
        onChange(healthy);
      },
      logger,
      registry: metrics.registry,
    });
    monitor.start();
    shutdown.onStop('stop dependency checks', () => monitor.stop());
  };

  return {
    config,
    logger,
    metrics,
    spans,
    pool,
    prisma,
    nats: connectOnce,
    client: (address, extra = {}) => clientOptions(config, address, extra),
    async peer({ address, cache_ttl, cache_max }) {
      const { nc } = await connectOnce();
      return {
        ...clientOptions(config, address),
        nc,
        logger,
        cacheTtlMs: cache_ttl,
        ...(cache_max === undefined ? {} : { maxEntries: cache_max }),
        metrics: eventMetrics(metrics.registry),
      };
    },
    serverOptions: () => ({
      logger,
      host: config.grpc.host,
      port: config.grpc.port,
      maxMessageBytes: config.grpc.max_message_bytes,
      maxConnectionAgeMs: config.grpc.max_connection_age,
      // A call caught by a connection's age gets as long to finish as at SIGTERM.
      maxConnectionAgeGraceMs: config.grpc.shutdown_grace,
      ...serverSecurity(config),
      rpcDuration: metrics.rpcDuration,
      // Postgres down or restarting: callers retry (UNAVAILABLE), they never see INTERNAL.
      isUnavailable: isDatabaseUnavailable,
    }),
    idempotencyKeys() {
      try {
        return idempotencyKeyring(config.idempotency, {
          production: process.env.NODE_ENV === 'production',
          warn: (message) => logger.warn(message),
        });
      } catch (error) {
        return failStartup(label, error);
      }
    },
    every(name, intervalMs, task) {
      const periodic = every(intervalMs, task, { name, logger });
      shutdown.onStop(`stop ${name}`, () => periodic.stop());
    },
    retry(name, attempt, o) {
      const stopping = new AbortController();
      const running = retry(attempt, o, stopping.signal);
      shutdown.onStop(`stop ${name}`, async () => {
        stopping.abort();
        await running.catch(() => undefined);
      });
      return running;
    },
    onStop: (name, stop) => shutdown.onStop(name, stop),
    async serve(server) {
      shutdown.onStop('stop serving and drain calls', () =>
        server.shutdown(config.grpc.shutdown_grace),
      );
      const port = await server.listen().catch((error: unknown) => failStartup(label, error));
      watchDependencies((healthy) => server.setServing(healthy));
      return port;
    },
    async serveHealth(port) {
      if (!port) return 0;
      let health: Awaited<ReturnType<typeof serveHealth>>;
      try {
        health = await serveHealth(config.grpc.host, port, [processName]);
      } catch (error) {
        return failStartup(label, error);
      }
      shutdown.onStop('close health', async () => health.close());
      watchDependencies((healthy) => health.setServing(healthy));
      return health.port;
    },
    async serveMetrics(port, routes) {
      try {
        metricsServer = await serveMetrics(metrics.registry, config.metrics.host, port, routes);
      } catch (error) {
        return failStartup(label, error);
      }
      const address = metricsServer.address();
      return typeof address === 'object' && address ? address.port : port;
    },
    close: () => shutdown.run(logger),
  };
}

/** A dependency probe pending this long fails (the grace still decides when that matters). */
const DEPENDENCY_PROBE_TIMEOUT_MS = 2_000;

interface PrismaLike {
  $disconnect(): Promise<void>;
}
