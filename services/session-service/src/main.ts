import { uuidv7, connectNats, REJECTED_EVENTS_METRIC } from '@warden/events';
import { AppError } from '@warden/errors';
import {
  clientOptions,
  createMetrics,
  failStartup,
  onShutdown,
  registerCounter,
  serverSecurity,
  serveMetrics,
} from '@warden/grpc';
import { createLogger, startTracing } from '@warden/logger';
import { descriptorSetPath } from '@warden/proto';
import { createAuthzChecker } from '@warden/authz-client';
import { idempotencyKeyring } from '@warden/bus';
import { GrpcCredentialsVerifier } from './adapters/clients/grpc-credentials-verifier.js';
import { followSessionEvents } from './adapters/nats/session-event-feed.js';
import { PgIdempotencyStore } from '@warden/db';
import { PrismaSessionRepository } from './adapters/prisma/prisma-session-repository.js';
import { createSessionApp } from './app.js';
import { loadSessionConfig, type Config } from './config.js';
import { openDatabase } from './database.js';
import { createSessionServer } from './server.js';

const SERVICE = 'session-service';

let config: Config;
try {
  config = loadSessionConfig();
} catch (error) {
  failStartup(SERVICE, error);
}

const logger = createLogger({ service: SERVICE, level: config.log.level });
const spans = startTracing({
  endpoint: config.telemetry.otlp_endpoint,
  serviceName: SERVICE,
  logger,
});

try {
  // Refused before anything is opened: production must bring its own secret.
  const idempotencyKeys = idempotencyKeyring(config.idempotency, {
    production: process.env.NODE_ENV === 'production',
    warn: (message) => logger.warn(message),
  });
  const database = await openDatabase(config, logger, 'server');
  const { nc } = await connectNats(config.nats, SERVICE, logger);
  const authorizer = createAuthzChecker({
    ...clientOptions(config, config.authz.address),
    nc,
    logger,
    cacheTtlMs: config.authz.cache_ttl,
  });
  const credentials = new GrpcCredentialsVerifier(
    clientOptions(config, config.user_service.address, {
      deadlineMs: config.user_service.deadline,
    }),
  );
  const metrics = createMetrics(SERVICE);
  const app = createSessionApp({
    sessions: new PrismaSessionRepository(database.prisma, database.pool),
    credentials,
    authorizer,
    idempotencyStore: new PgIdempotencyStore(database.pool),
    idempotencyKeyring: idempotencyKeys,
    clock: { now: () => new Date() },
    ids: { newId: () => uuidv7() },
    settings: {
      absoluteTtlMs: config.session.absolute_ttl,
      idleTimeoutMs: config.session.idle_timeout,
      maxPerUser: config.session.max_per_user,
      tokenBytes: config.session.token_bytes,
    },
    cache: { maxEntries: config.cache.max_entries, ttlMs: config.cache.ttl },
    watch: {
      allowedServices: config.watch.allowed_services,
      queueSize: config.watch.queue_size,
      limits: {
        maxStreams: config.watch.max_streams,
        maxStreamsPerCaller: config.watch.max_streams_per_caller,
      },
    },
    lastSeenFlushIntervalMs: config.session.last_seen_flush_interval,
    logger,
  });
  const feed = followSessionEvents(
    nc,
    app.cache,
    app.hub,
    logger,
    registerCounter(
      metrics.registry,
      REJECTED_EVENTS_METRIC.name,
      REJECTED_EVENTS_METRIC.help,
      REJECTED_EVENTS_METRIC.labelNames,
    ),
  );
  app.flusher.start();
  const server = createSessionServer(app, {
    logger,
    host: config.grpc.host,
    port: config.grpc.port,
    maxMessageBytes: config.grpc.max_message_bytes,
    ...serverSecurity(config),
    descriptorSetPath,
    rpcDuration: metrics.rpcDuration,
  });
  const port = await server.listen();
  const metricsServer = await serveMetrics(
    metrics.registry,
    config.metrics.host,
    config.metrics.port,
  );
  const metricsAddress = metricsServer.address();
  logger.info(
    { port, metricsPort: typeof metricsAddress === 'object' ? metricsAddress?.port : undefined },
    'session-service serving',
  );

  onShutdown(logger, [
    [
      'end watch streams',
      async () =>
        app.hub.failAll(
          new AppError(
            'UNAVAILABLE',
            'SHUTTING_DOWN',
            'session-service is shutting down; reconnect',
          ),
        ),
    ],
    ['drain gRPC', () => server.shutdown(config.grpc.shutdown_grace)],
    ['flush session activity', () => app.flusher.stop()],
    ['stop session events', () => feed.stop()],
    [
      'close clients',
      async () => {
        credentials.close();
        await authorizer.close();
      },
    ],
    ['close NATS', () => nc.drain()],
    ['close metrics', () => new Promise<void>((resolve) => metricsServer.close(() => resolve()))],
    ['close database', () => database.close()],
    ['flush spans', () => spans.shutdown()],
  ]);
} catch (error) {
  failStartup(SERVICE, error);
}
