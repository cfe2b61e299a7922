// authz-service gRPC server: answers checks from the in-memory policy model, kept current by events.
import { PgIdempotencyStore } from '@warden/db';
import { eventMetrics, failStartup, startProcess } from '@warden/runtime';
import { createSessionResolver } from '@warden/session-client';
import { subscribePolicyEvents } from './adapters/nats/policy-events-subscriber.js';
import { PrismaAuthzRepository } from './adapters/prisma/prisma-authz-repository.js';
import { createAuthzApp } from './app.js';
import { authzService, SERVICE_NAME } from './config.js';
import { createAuthzServer } from './server.js';

const proc = await startProcess({ ...authzService, role: 'server' });
const { config, logger, pool } = proc;
const idempotencyKeys = proc.idempotencyKeys();
const { nc } = await proc.nats();

const app = createAuthzApp({
  repository: new PrismaAuthzRepository(pool),
  idempotencyStore: new PgIdempotencyStore(pool),
  idempotencyKeyring: idempotencyKeys,
  logger,
});
// Subscribe before loading, so nothing committed meanwhile is missed.
const policyEvents = subscribePolicyEvents(nc, app.sync, {
  logger,
  metrics: eventMetrics(proc.metrics.registry),
});
proc.onStop('unsubscribe policy events', () => policyEvents.stop());
await app.sync.loadAll().catch((error: unknown) => failStartup(SERVICE_NAME, error));
// A safety net behind the events; its first run repeats the load above.
proc.every('reload policy model', config.authz.model_reload_interval, () => app.sync.loadAll());

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
