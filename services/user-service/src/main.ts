import { createAuthzChecker } from '@warden/authz-client';
import { idempotencyKeyring } from '@warden/bus';
import { createPool, PgIdempotencyStore } from '@warden/db';
import { connectNats } from '@warden/events';
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
import { createSessionResolver } from '@warden/session-client';
import { buildApp } from './app.js';
import { Argon2PasswordHasher } from './adapters/crypto/argon2-password-hasher.js';
import { QueueingHashingLimiter } from './adapters/crypto/hashing-limiter.js';
import {
  BreachedPasswordClient,
  NO_BREACH_CHECK,
} from './adapters/http/breached-password-client.js';
import { createPrismaClient } from './adapters/prisma/prisma-client.js';
import { PrismaLoginFailureStore } from './adapters/prisma/prisma-login-failure-store.js';
import { PrismaUserDirectory } from './adapters/prisma/prisma-user-directory.js';
import { PrismaUserRepository } from './adapters/prisma/prisma-user-repository.js';
import { loadUserConfig, toArgon2Params } from './config.js';
import { migrateUserSchema } from './migrations.js';
import { createUserServer, SERVICE_NAME } from './server.js';

async function main(): Promise<void> {
  const config = loadUserConfig();
  const logger = createLogger({ service: SERVICE_NAME, level: config.log.level });
  // Refused before anything is opened: production must bring its own secret.
  const idempotencyKeys = idempotencyKeyring(config.idempotency, {
    production: process.env.NODE_ENV === 'production',
    warn: (message) => logger.warn(message),
  });
  const spans = startTracing({
    endpoint: config.telemetry.otlp_endpoint,
    serviceName: SERVICE_NAME,
    logger,
  });
  const { database } = config;
  const pool = createPool({
    url: database.url,
    schema: database.schema,
    poolSize: database.pool_size,
    applicationName: SERVICE_NAME,
  });
  if (database.migrate_on_start) {
    await migrateUserSchema(pool, database.schema, (line) => logger.info(line));
  }
  const prisma = createPrismaClient(pool, database.schema);
  const { nc } = await connectNats(config.nats, SERVICE_NAME, logger);
  const authorizer = createAuthzChecker({
    ...clientOptions(config, config.authz.address),
    nc,
    logger,
    cacheTtlMs: config.authz.cache_ttl,
  });
  const sessions = createSessionResolver({
    ...clientOptions(config, config.session.address),
    nc,
    logger,
    cacheTtlMs: config.session.cache_ttl,
  });
  const metrics = createMetrics(SERVICE_NAME);
  const passwordChecks = registerCounter(
    metrics.registry,
    'warden_password_verifications_total',
    'argon2id verifications run, by result; lockout keeps it at max_failures per email and window',
    ['result'],
  );
  const busyChecks = registerCounter(
    metrics.registry,
    'warden_password_checks_busy_total',
    'password checks and hashes refused at capacity (PASSWORD_CHECKS_BUSY); a steady rate means a flood or too few threads',
    [],
  );
  const breachCheck = config.password.breach_check;
  const app = buildApp({
    users: new PrismaUserRepository(prisma, pool),
    directory: new PrismaUserDirectory(prisma),
    loginFailures: new PrismaLoginFailureStore(pool),
    idempotencyStore: new PgIdempotencyStore(pool),
    hasher: await Argon2PasswordHasher.create(toArgon2Params(config.password.hashing), (matched) =>
      passwordChecks.inc({ result: matched ? 'match' : 'mismatch' }),
    ),
    hashingLimiter: new QueueingHashingLimiter({
      maxConcurrent: config.password.hashing.max_concurrent,
      maxQueue: config.password.hashing.max_queue,
      onRefused: () => busyChecks.inc(),
    }),
    breaches: breachCheck.enabled
      ? new BreachedPasswordClient({
          baseUrl: breachCheck.base_url,
          timeoutMs: breachCheck.timeout,
          logger,
        })
      : NO_BREACH_CHECK,
    authorizer,
    lockout: { maxFailures: config.lockout.max_failures, windowMs: config.lockout.window },
    idempotencyTtlMs: config.idempotency.ttl,
    idempotencyKeyring: idempotencyKeys,
  });
  const { grpc } = config;
  const server = createUserServer({
    app,
    logger,
    host: grpc.host,
    port: grpc.port,
    maxMessageBytes: grpc.max_message_bytes,
    ...serverSecurity(config),
    resolveUser: (token, ctx) => sessions.resolve(token, ctx),
    rpcDuration: metrics.rpcDuration,
  });
  const port = await server.listen();
  const metricsServer = await serveMetrics(
    metrics.registry,
    config.metrics.host,
    config.metrics.port,
  );
  logger.info({ port, metricsPort: config.metrics.port }, 'user-service serving');

  onShutdown(
    logger,
    [
      ['grpc server', () => server.shutdown(grpc.shutdown_grace)],
      [
        'metrics server',
        () => new Promise<void>((resolve) => metricsServer.close(() => resolve())),
      ],
      ['service clients', () => Promise.all([authorizer.close(), sessions.close()])],
      ['nats', () => nc.drain()],
      ['prisma', () => prisma.$disconnect()],
      ['database pool', () => pool.end()],
      ['spans', () => spans.shutdown()],
    ],
    grpc.shutdown_grace + 5_000,
  );
}

main().catch((error: unknown) => failStartup(SERVICE_NAME, error));
