// authz-service worker: outbox relay, the user-events consumer, the expiry sweeper and retention.
import type { Server } from 'node:http';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import {
  awaitStream,
  OutboxRelay,
  prunePublishedOutbox,
  pruneProcessedEvents,
  REJECTED_EVENTS_METRIC,
  STREAMS,
} from '@warden/events';
import {
  clientOptions,
  createMetrics,
  failStartup,
  onShutdown,
  registerCounter,
  serveMetrics,
} from '@warden/grpc';
import { createUserEventsConsumer } from './adapters/nats/user-events-consumer.js';
import { PrismaAuthzRepository } from './adapters/prisma/prisma-authz-repository.js';
import { PgIdempotencyStore } from '@warden/db';
import { systemClock } from './app.js';
import { GiveDefaultRolesHandler } from './application/commands/give-default-roles.js';
import { RemoveSubjectHandler } from './application/commands/remove-subject.js';
import { PromoteExistingAdmins } from './application/commands/promote-existing-admins.js';
import { BootstrapAdmins, bootstrapEntries } from './application/bootstrap-admins.js';
import { GrpcUserLookup } from './adapters/clients/grpc-user-lookup.js';
import { SweepLapsedAssignments } from './application/commands/sweep-lapsed-assignments.js';
import { every } from './periodic.js';
import { connectNatsOrExit, openRuntime, SERVICE_NAME } from './runtime.js';

const DAY_MS = 24 * 3_600_000;

const runtime = await openRuntime('worker');
const { config, logger, pool, prisma } = runtime;
const { nc, js, jsm } = await connectNatsOrExit(runtime, 'worker');
const repository = new PrismaAuthzRepository(prisma, pool);

if (!(await repository.findRole(config.authz.default_role))) {
  failStartup(
    SERVICE_NAME,
    new Error(`authz.default_role: role ${config.authz.default_role} does not exist`),
  );
}
await awaitStream(jsm, STREAMS.authz.name, logger).catch((error: unknown) =>
  failStartup(SERVICE_NAME, error),
);

const relay = new OutboxRelay({ pool, js, logger });
relay.start();

// Bootstrap admins: registered events carry no email, so user-service is asked (only while an
// email entry is ungranted); existing users are promoted in the background below.
const userLookup = new GrpcUserLookup(
  clientOptions(config, config.user_service.address, { deadlineMs: 5_000 }),
);
const bootstrap = new BootstrapAdmins(
  bootstrapEntries(config.authz.bootstrap_admins),
  repository,
  userLookup,
);

const metrics = createMetrics(`${SERVICE_NAME}-worker`);
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
  rejected: registerCounter(
    metrics.registry,
    REJECTED_EVENTS_METRIC.name,
    REJECTED_EVENTS_METRIC.help,
    REJECTED_EVENTS_METRIC.labelNames,
  ),
});
let stopping = false;
void startWhenStreamExists().catch((error: unknown) => failStartup(SERVICE_NAME, error));

// Bootstrap admins who registered before being listed (or are listed by id): asked of user-service
// in the background, retried while it is not up yet; new registrations go through the consumer.
const promoting = (async () => {
  const promote = new PromoteExistingAdmins(repository, userLookup, bootstrap, systemClock);
  for (let attempt = 1; attempt <= 30 && !stopping && bootstrap.entries.length > 0; attempt++) {
    try {
      const promoted = await promote.run();
      if (promoted.length > 0) logger.info({ promoted }, 'existing bootstrap admins made admin');
      const open = (await bootstrap.ungranted()).length;
      logger.info(
        { entries: bootstrap.entries.length, ungranted: open },
        'bootstrap admins checked',
      );
      return;
    } catch (error) {
      logger.warn({ err: error, attempt }, 'cannot look up bootstrap admins yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * attempt)));
    }
  }
})();

const sweeper = new SweepLapsedAssignments(repository, systemClock);
const sweeping = every(config.worker.expiry_sweep_interval, 'expiry sweep', logger, async () => {
  const removed = await sweeper.sweep();
  if (removed > 0) logger.info({ removed }, 'lapsed role assignments removed');
});
const idempotency = new PgIdempotencyStore(pool);
const retention = every(config.worker.retention_interval, 'retention', logger, async () => {
  const now = Date.now();
  await prunePublishedOutbox(pool, new Date(now - config.worker.outbox_retention));
  await pruneProcessedEvents(pool, new Date(now - config.worker.processed_events_retention));
  await idempotency.prune(new Date(now - DAY_MS));
});

let metricsServer: Server | undefined;
try {
  metricsServer = await serveMetrics(
    metrics.registry,
    config.metrics.host,
    config.worker.metrics_port,
  );
} catch (error) {
  failStartup(SERVICE_NAME, error);
}
logger.info({ durable: config.worker.user_events_durable }, 'authz-service worker running');

onShutdown(logger, [
  [
    'stop consuming',
    async () => {
      stopping = true;
      await consumer.stop();
    },
  ],
  [
    'stop promoting bootstrap admins',
    async () => {
      await promoting;
      userLookup.close();
    },
  ],
  ['stop sweeping', () => sweeping.stop()],
  ['stop retention', () => retention.stop()],
  ['stop relay', () => relay.stop()],
  [
    'flush outbox',
    async () => {
      while ((await relay.relayOnce()) > 0);
    },
  ],
  [
    'close metrics',
    () =>
      new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined))),
  ],
  ['drain NATS', () => nc.drain()],
  ['disconnect Prisma', () => prisma.$disconnect()],
  ['close database pool', () => pool.end()],
  ['flush spans', () => runtime.spans.shutdown()],
]);

/** WARDEN_USER belongs to user-service's worker; until it exists, wait for it rather than exit. */
async function startWhenStreamExists(): Promise<void> {
  for (let attempt = 1; !stopping; attempt++) {
    try {
      await consumer.start();
      return;
    } catch (error) {
      const missing =
        error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
      if (!missing) throw error;
      if (attempt === 1)
        logger.warn(
          { stream: STREAMS.user.name },
          'stream not there yet (user-service worker creates it); waiting',
        );
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
}
