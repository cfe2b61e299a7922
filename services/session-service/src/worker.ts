import {
  awaitStream,
  connectNats,
  OutboxRelay,
  prunePublishedOutbox,
  pruneProcessedEvents,
  REJECTED_EVENTS_METRIC,
  STREAMS,
} from '@warden/events';
import {
  createMetrics,
  failStartup,
  onShutdown,
  registerCounter,
  serveMetrics,
} from '@warden/grpc';
import { createLogger, startTracing } from '@warden/logger';
import { EndSessionsForUserEventHandler } from './application/commands/end-sessions-for-user-event.js';
import { ExpireSessionsHandler } from './application/commands/expire-sessions.js';
import { PurgeEndedSessionsHandler } from './application/commands/purge-ended-sessions.js';
import { userEventsConsumer } from './adapters/nats/user-events-consumer.js';
import { PgIdempotencyStore } from '@warden/db';
import { PrismaSessionRepository } from './adapters/prisma/prisma-session-repository.js';
import { loadSessionConfig, type Config } from './config.js';
import { openDatabase } from './database.js';
import { every } from './periodic-task.js';

const SERVICE = 'session-service-worker';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

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
  const database = await openDatabase(config, logger, 'worker');
  const { nc, js, jsm } = await connectNats(config.nats, SERVICE, logger);
  // Streams are provisioned by ops (a service may not configure them); wait for both.
  await awaitStream(jsm, STREAMS.session.name, logger);
  await awaitStream(jsm, STREAMS.user.name, logger);

  const clock = { now: () => new Date() };
  const sessions = new PrismaSessionRepository(database.prisma, database.pool);
  const relay = new OutboxRelay({ pool: database.pool, js, logger });
  relay.start();
  const metrics = createMetrics(`${SERVICE}-worker`);
  const consumer = userEventsConsumer({
    js,
    jsm,
    durable: config.events.user_events_durable,
    startFrom: config.events.user_events_start_from,
    handler: new EndSessionsForUserEventHandler({ sessions, clock }),
    logger,
    rejected: registerCounter(
      metrics.registry,
      REJECTED_EVENTS_METRIC.name,
      REJECTED_EVENTS_METRIC.help,
      REJECTED_EVENTS_METRIC.labelNames,
    ),
  });
  await consumer.start();
  const expireSessions = new ExpireSessionsHandler({
    sessions,
    clock,
    batchSize: config.sweeper.batch_size,
    // Replicas write activity back every flush interval: wait two before calling a session idle.
    idleGraceMs: 2 * config.session.last_seen_flush_interval,
  });
  const sweeper = every(
    'expire sessions',
    config.sweeper.interval,
    async () => {
      const expired = await expireSessions.execute();
      if (expired > 0) logger.info({ expired }, 'sessions expired');
    },
    logger,
  );
  const idempotency = new PgIdempotencyStore(database.pool);
  const purgeEndedSessions = new PurgeEndedSessionsHandler({
    sessions,
    clock,
    retentionMs: config.sweeper.retention,
    batchSize: config.sweeper.batch_size,
  });
  const housekeeping = every(
    'prune old rows',
    HOUR,
    async () => {
      const now = Date.now();
      await idempotency.prune(new Date(now - DAY));
      await prunePublishedOutbox(database.pool, new Date(now - DAY));
      await pruneProcessedEvents(database.pool, new Date(now - 14 * DAY));
      const purged = await purgeEndedSessions.execute();
      if (purged > 0) logger.info({ purged }, 'ended sessions purged');
    },
    logger,
  );
  const metricsServer = await serveMetrics(
    metrics.registry,
    config.metrics.host,
    config.worker.metrics_port,
  );
  logger.info({ durable: config.events.user_events_durable }, 'session-service worker running');

  onShutdown(logger, [
    ['stop sweeper', () => sweeper.stop()],
    ['stop housekeeping', () => housekeeping.stop()],
    ['stop user events', () => consumer.stop()],
    ['flush outbox', () => relay.stop()],
    ['close NATS', () => nc.drain()],
    ['stop metrics', () => new Promise<void>((resolve) => metricsServer.close(() => resolve()))],
    ['close database', () => database.close()],
    ['flush spans', () => spans.shutdown()],
  ]);
} catch (error) {
  failStartup(SERVICE, error);
}
