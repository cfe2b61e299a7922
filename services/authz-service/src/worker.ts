// authz-service worker: outbox relay, the user- and session-events consumers, the expiry sweeper
// and retention.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { awaitStream, outboxBacklog, OutboxRelay, STREAMS } from '@warden/events';
import { recordProducerSpan } from '@warden/logger';
import {
  eventMetrics,
  failStartup,
  outboxMetrics,
  pruneRetained,
  startProcess,
} from '@warden/runtime';
import { GrpcUserLookup } from './adapters/clients/grpc-user-lookup.js';
import { createSessionEventsConsumer } from './adapters/nats/session-events-consumer.js';
import { createUserEventsConsumer } from './adapters/nats/user-events-consumer.js';
import { PrismaAuthzRepository } from './adapters/prisma/prisma-authz-repository.js';
import { systemClock } from './app.js';
import { BootstrapAdmins, bootstrapEntries } from './application/bootstrap-admins.js';
import { GiveDefaultRolesHandler } from './application/commands/give-default-roles.js';
import {
  ForgetEndedSessions,
  LapseSessionGrantsHandler,
} from './application/commands/lapse-session-grants.js';
import { PromoteExistingAdmins } from './application/commands/promote-existing-admins.js';
import { RemoveSubjectHandler } from './application/commands/remove-subject.js';
import { SweepLapsedAssignments } from './application/commands/sweep-lapsed-assignments.js';
import { authzService, SERVICE_NAME } from './config.js';

const DAY_MS = 24 * 3_600_000;

const proc = await startProcess({ ...authzService, role: 'worker' });
const { config, logger, pool, metrics } = proc;
const { js, jsm } = await proc.nats();
const repository = new PrismaAuthzRepository(pool);

if (!(await repository.findRole(config.authz.default_role))) {
  failStartup(
    SERVICE_NAME,
    new Error(`authz.default_role: role ${config.authz.default_role} does not exist`),
  );
}
await awaitStream(jsm, STREAMS.authz.name, logger, { replicas: config.nats.stream_replicas }).catch(
  (error: unknown) => failStartup(SERVICE_NAME, error),
);

const relay = new OutboxRelay({ pool, js, logger, observe: recordProducerSpan });
outboxMetrics(metrics.registry, () => outboxBacklog(pool));
relay.start();
proc.onStop('stop relay and flush the outbox', async () => {
  await relay.stop();
  while ((await relay.relayOnce()) > 0);
});

// Bootstrap admins: registered events carry no email, so user-service is asked (only while an
// email entry is ungranted); existing users are promoted in the background below.
const userLookup = new GrpcUserLookup(
  proc.client(config.user_service.address, { deadlineMs: 5_000 }),
);
proc.onStop('close user-service client', async () => userLookup.close());
const bootstrap = new BootstrapAdmins(
  bootstrapEntries(config.authz.bootstrap_admins),
  repository,
  userLookup,
  { requireVerifiedEmail: config.authz.bootstrap_requires_verified_email },
);

const consumer = createUserEventsConsumer({
  js,
  jsm,
  giveDefaultRoles: new GiveDefaultRolesHandler(
    repository,
    systemClock,
    { defaultRole: config.authz.default_role },
    bootstrap,
  ),
  removeSubject: new RemoveSubjectHandler(repository, systemClock),
  logger,
  durable: config.worker.user_events_durable,
  startFrom: config.worker.user_events_start_from,
  metrics: eventMetrics(metrics.registry),
});
proc.onStop('stop consuming', () => consumer.stop());
// WARDEN_USER belongs to user-service's worker; until it exists, wait for it rather than exit.
void proc
  .retry('wait for the user stream', () => consumer.start(), {
    delayMs: () => 2_000,
    retryable: (error) =>
      error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound,
    onFailure: (_error, attempt) => {
      if (attempt === 1)
        logger.warn(
          { stream: STREAMS.user.name },
          'stream not there yet (user-service worker creates it); waiting',
        );
    },
  })
  .catch((error: unknown) => failStartup(SERVICE_NAME, error));

// Session-bound grants lapse with their session (ended or expired). WARDEN_SESSION belongs to
// session-service's worker: wait for it like for WARDEN_USER.
const sessionConsumer = createSessionEventsConsumer({
  js,
  jsm,
  lapseSessionGrants: new LapseSessionGrantsHandler(repository, systemClock),
  logger,
  durable: config.worker.session_events_durable,
  startFrom: config.worker.session_events_start_from,
  metrics: eventMetrics(metrics.registry),
});
proc.onStop('stop consuming session events', () => sessionConsumer.stop());
void proc
  .retry('wait for the session stream', () => sessionConsumer.start(), {
    delayMs: () => 2_000,
    retryable: (error) =>
      error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound,
    onFailure: (_error, attempt) => {
      if (attempt === 1)
        logger.warn(
          { stream: STREAMS.session.name },
          'stream not there yet (session-service worker creates it); waiting',
        );
    },
  })
  .catch((error: unknown) => failStartup(SERVICE_NAME, error));

// Bootstrap admins who registered before being listed (or are listed by id): asked of user-service
// in the background, retried while it is not up yet; new registrations go through the consumer.
if (bootstrap.entries.length > 0) {
  const promote = new PromoteExistingAdmins(repository, bootstrap, systemClock);
  void proc.retry(
    'promote bootstrap admins',
    async () => {
      const promoted = await promote.run();
      if (promoted.length > 0) logger.info({ promoted }, 'existing bootstrap admins made admin');
      const open = (await bootstrap.ungranted()).length;
      logger.info(
        { entries: bootstrap.entries.length, ungranted: open },
        'bootstrap admins checked',
      );
    },
    {
      maxAttempts: 30,
      delayMs: (attempt) => Math.min(10_000, 500 * attempt),
      onFailure: (error, attempt) =>
        logger.warn({ err: error, attempt }, 'cannot look up bootstrap admins yet; retrying'),
    },
  );
}

const sweeper = new SweepLapsedAssignments(repository, systemClock);
proc.every('expiry sweep', config.worker.expiry_sweep_interval, async () => {
  const removed = await sweeper.sweep();
  if (removed > 0) logger.info({ removed }, 'lapsed role assignments removed');
});
// Ended sessions are remembered as long as a grant may be bound (AssignRole's race guard).
const endedSessions = new ForgetEndedSessions(
  repository,
  systemClock,
  config.authz.max_bound_grant_ttl,
);
proc.every('retention', config.worker.retention_interval, async () => {
  await endedSessions.sweep();
  await pruneRetained(pool, {
    outboxMs: config.worker.outbox_retention,
    processedEventsMs: config.worker.processed_events_retention,
    idempotencyMs: DAY_MS,
    auditMs: config.audit.retention,
  });
});

const metricsPort = await proc.serveMetrics(config.worker.metrics_port);
const healthPort = await proc.serveHealth(config.worker.health_port);
logger.info(
  { durable: config.worker.user_events_durable, metricsPort, healthPort },
  'authz-service worker running',
);
