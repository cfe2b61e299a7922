// session-service worker: outbox relay, user-events consumer, expiry sweeper and housekeeping.
import { awaitStream, outboxBacklog, OutboxRelay, STREAMS } from '@warden/events';
import { recordProducerSpan } from '@warden/logger';
import {
  eventMetrics,
  failStartup,
  outboxMetrics,
  pruneRetained,
  startProcess,
  sweepInBatches,
} from '@warden/runtime';
import { userEventsConsumer } from './adapters/nats/user-events-consumer.js';
import { PgMfaChallengeStore } from './adapters/prisma/pg-mfa-challenge-store.js';
import { PrismaSessionRepository } from './adapters/prisma/prisma-session-repository.js';
import { EndSessionsForUserEventHandler } from './application/commands/end-sessions-for-user-event.js';
import { ExpireSessionsHandler } from './application/commands/expire-sessions.js';
import { PurgeEndedSessionsHandler } from './application/commands/purge-ended-sessions.js';
import { SERVICE_NAME, sessionService } from './config.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const proc = await startProcess({ ...sessionService, role: 'worker' });
const { config, logger, pool, metrics } = proc;
const { js, jsm } = await proc.nats();
// Streams are provisioned by ops (a service may not configure them); wait for both.
await awaitStream(jsm, STREAMS.session.name, logger, {
  replicas: config.nats.stream_replicas,
}).catch((e: unknown) => failStartup(SERVICE_NAME, e));
await awaitStream(jsm, STREAMS.user.name, logger, { replicas: config.nats.stream_replicas }).catch(
  (e: unknown) => failStartup(SERVICE_NAME, e),
);

const clock = { now: () => new Date() };
const sessions = new PrismaSessionRepository(pool);
const mfaChallenges = new PgMfaChallengeStore(pool);
const relay = new OutboxRelay({ pool, js, logger, observe: recordProducerSpan });
relay.start();
outboxMetrics(metrics.registry, () => outboxBacklog(pool));
proc.onStop('flush outbox', () => relay.stop());

const consumer = userEventsConsumer({
  js,
  jsm,
  durable: config.events.user_events_durable,
  startFrom: config.events.user_events_start_from,
  handler: new EndSessionsForUserEventHandler({ sessions, challenges: mfaChallenges, clock }),
  logger,
  metrics: eventMetrics(metrics.registry),
});
await consumer.start().catch((e: unknown) => failStartup(SERVICE_NAME, e));
proc.onStop('stop user events', () => consumer.stop());

const { batch_size: batchSize } = config.sweeper;
const expireSessions = new ExpireSessionsHandler({
  sessions,
  clock,
  batchSize,
  // Replicas write activity back every flush interval: wait two before calling a session idle.
  idleGraceMs: 2 * config.session.last_seen_flush_interval,
});
proc.every('expire sessions', config.sweeper.interval, async () => {
  const expired = await sweepInBatches(() => expireSessions.execute(), batchSize);
  if (expired > 0) logger.info({ expired }, 'sessions expired');
  // MFA challenges past their 5 minutes can never be completed: their client data goes too.
  const challenges = await mfaChallenges.purgeExpired(clock.now());
  if (challenges > 0) logger.info({ challenges }, 'expired MFA challenges deleted');
});
const purgeEndedSessions = new PurgeEndedSessionsHandler({
  sessions,
  clock,
  retentionMs: config.sweeper.retention,
  batchSize,
});
proc.every('prune old rows', HOUR, async () => {
  await pruneRetained(pool, {
    outboxMs: DAY,
    processedEventsMs: 14 * DAY,
    idempotencyMs: DAY,
    auditMs: config.audit.retention,
  });
  const purged = await sweepInBatches(() => purgeEndedSessions.execute(), batchSize);
  if (purged > 0) logger.info({ purged }, 'ended sessions purged');
});

const metricsPort = await proc.serveMetrics(config.worker.metrics_port);
const healthPort = await proc.serveHealth(config.worker.health_port);
logger.info(
  { durable: config.events.user_events_durable, metricsPort, healthPort },
  'session-service worker running',
);
