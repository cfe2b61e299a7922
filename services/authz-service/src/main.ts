// authz-service gRPC server: answers checks from the role catalogue and a bounded cache of subjects'
// assignments (read on demand), kept current by events.
import { PgIdempotencyStore } from '@warden/db';
import { PgAuditLog } from '@warden/events';
import { cacheMetrics, eventMetrics, failStartup, startProcess } from '@warden/runtime';
import { createSessionResolver } from '@warden/session-client';
import { GrpcSessionDirectory } from './adapters/clients/grpc-session-directory.js';
import { subscribePolicyEvents } from './adapters/nats/policy-events-subscriber.js';
import { PrismaAuthzRepository } from './adapters/prisma/prisma-authz-repository.js';
import { createAuthzApp } from './app.js';
import { authzService, SERVICE_NAME } from './config.js';
import { createAuthzServer } from './server.js';

const proc = await startProcess({ ...authzService, role: 'server' });
const { config, logger, pool } = proc;
const idempotencyKeys = proc.idempotencyKeys();
const { nc } = await proc.nats();

// AssignRole asks session-service whether a session to bind a grant to is active and whose it is.
const sessionDirectory = new GrpcSessionDirectory(
  proc.client(config.session.address, { deadlineMs: 5_000 }),
);
proc.onStop('close session directory client', async () => sessionDirectory.close());

const app = createAuthzApp({
  repository: new PrismaAuthzRepository(pool),
  sessions: sessionDirectory,
  maxBoundGrantTtlMs: config.authz.max_bound_grant_ttl,
  auditLog: new PgAuditLog(pool),
  idempotencyStore: new PgIdempotencyStore(pool),
  idempotencyKeyring: idempotencyKeys,
  logger,
  subjectCacheMax: config.authz.subject_cache_max,
  minRevisionWaitMs: config.authz.min_revision_wait,
});
// Subscribe before loading, so nothing committed meanwhile is missed.
const policyEvents = subscribePolicyEvents(nc, app.sync, {
  logger,
  metrics: eventMetrics(proc.metrics.registry),
});
proc.onStop('unsubscribe policy events', () => policyEvents.stop());
// Roles only: assignments are read per subject at its first check, so start time and memory do not
// grow with the number of assignments. The watermark starts at the revision read before them.
await app.sync.resync().catch((error: unknown) => failStartup(SERVICE_NAME, error));
proc.every('reload role catalogue', config.authz.catalogue_reload_interval, () =>
  app.sync.loadCatalogue(),
);
cacheMetrics(proc.metrics.registry, {
  authz_subjects: app.model.cache.stats,
  // Reads with a min_revision: answered from the caches (hit), or read through (miss).
  authz_min_revision: app.policy.freshness.stats,
});

const sessions = createSessionResolver(await proc.peer(config.session));
proc.onStop('close session client', () => sessions.close());

const port = await proc.serve(
  createAuthzServer(app, {
    ...proc.serverOptions(),
    resolveUser: (token, ctx) => sessions.resolve(token, ctx),
  }),
);
const metricsPort = await proc.serveMetrics(config.metrics.port);
logger.info({ port, metricsPort }, 'authz-service serving');
