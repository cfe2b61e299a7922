// authz-service gRPC server: answers checks from the in-memory policy model, kept current by events.
import type { Server } from 'node:http';
import {
  clientOptions,
  createMetrics,
  failStartup,
  GrpcServer,
  onShutdown,
  serverSecurity,
  serveMetrics,
} from '@warden/grpc';
import { idempotencyKeyring, type IdempotencyKeyring } from '@warden/bus';
import { authzv1, descriptorSetPath } from '@warden/proto';
import { createSessionResolver } from '@warden/session-client';
import { subscribePolicyEvents } from './adapters/nats/policy-events-subscriber.js';
import { PrismaAuthzRepository } from './adapters/prisma/prisma-authz-repository.js';
import { PgIdempotencyStore } from '@warden/db';
import { buildAuthzApp } from './app.js';
import { connectNatsOrExit, openRuntime, SERVICE_NAME } from './runtime.js';

const runtime = await openRuntime('server');
const { config, logger, pool, prisma } = runtime;
let idempotencyKeys: IdempotencyKeyring;
try {
  // Production must bring its own secret.
  idempotencyKeys = idempotencyKeyring(config.idempotency, {
    production: process.env.NODE_ENV === 'production',
    warn: (message) => logger.warn(message),
  });
} catch (error) {
  failStartup(SERVICE_NAME, error);
}
const { nc } = await connectNatsOrExit(runtime, 'server');

const app = buildAuthzApp({
  repository: new PrismaAuthzRepository(prisma, pool),
  idempotencyStore: new PgIdempotencyStore(pool),
  idempotencyKeyring: idempotencyKeys,
  logger,
});
// Subscribe before loading, so nothing committed meanwhile is missed.
const policyEvents = subscribePolicyEvents(nc, app.sync, logger);
await app.sync.loadAll().catch((error: unknown) => failStartup(SERVICE_NAME, error));
const reload = setInterval(() => {
  app.sync
    .loadAll()
    .catch((err: unknown) => logger.error({ err }, 'periodic policy reload failed'));
}, config.authz.model_reload_interval);
reload.unref();

const sessions = createSessionResolver({
  ...clientOptions(config, config.session.address),
  nc,
  logger,
  cacheTtlMs: config.session.cache_ttl,
});
const metrics = createMetrics(SERVICE_NAME);
const server = new GrpcServer({
  serviceName: SERVICE_NAME,
  logger,
  host: config.grpc.host,
  port: config.grpc.port,
  maxMessageBytes: config.grpc.max_message_bytes,
  ...serverSecurity(config),
  descriptorSetPath,
  resolveUser: (token, ctx) => sessions.resolve(token, ctx),
  rpcDuration: metrics.rpcDuration,
});
server.addService(authzv1.AuthzServiceService, app.grpc);

let metricsServer: Server | undefined;
try {
  const port = await server.listen();
  metricsServer = await serveMetrics(metrics.registry, config.metrics.host, config.metrics.port);
  logger.info({ port, metricsPort: config.metrics.port }, 'authz-service serving');
} catch (error) {
  failStartup(SERVICE_NAME, error);
}

onShutdown(logger, [
  ['stop serving and drain calls', () => server.shutdown(config.grpc.shutdown_grace)],
  ['stop reloading', async () => clearInterval(reload)],
  ['unsubscribe', () => policyEvents.stop()],
  ['close session client', () => sessions.close()],
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
