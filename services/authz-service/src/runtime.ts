import { createPool, migrate } from '@warden/db';
import { connectNats, type NatsClients } from '@warden/events';
import { failStartup } from '@warden/grpc';
import { createLogger, startTracing, type Logger, type Tracer } from '@warden/logger';
import type pg from 'pg';
import { createPrismaClient, type PrismaClient } from './adapters/prisma/prisma-client.js';
import { loadAuthzConfig, MIGRATIONS_DIR, type AuthzConfig } from './config.js';

export const SERVICE_NAME = 'authz-service';

/** Config, logger, database (migrated in dev) and NATS: what main, worker and cli all start with. */
export interface Runtime {
  config: AuthzConfig;
  logger: Logger;
  /** Where spans go (NO_TRACING unless telemetry.otlp_endpoint is set); flush it on shutdown. */
  spans: Tracer;
  pool: pg.Pool;
  prisma: PrismaClient;
}

export function loadConfigOrExit(): AuthzConfig {
  try {
    return loadAuthzConfig();
  } catch (error) {
    return failStartup(SERVICE_NAME, error);
  }
}

export async function openRuntime(
  role: string,
  options: { migrate?: boolean } = {},
): Promise<Runtime> {
  const config = loadConfigOrExit();
  const logger = createLogger({ service: SERVICE_NAME, level: config.log.level }).child({
    process: role,
  });
  const spans = startTracing({
    endpoint: config.telemetry.otlp_endpoint,
    serviceName: SERVICE_NAME,
    logger,
  });
  const pool = createPool({
    url: config.database.url,
    schema: config.database.schema,
    poolSize: config.database.pool_size,
    applicationName: `${SERVICE_NAME}:${role}`,
  });
  // A dropped idle connection must not take the process down; the pool replaces it.
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection lost'));
  try {
    if (options.migrate ?? config.database.migrate_on_start) {
      await migrate(pool, {
        schema: config.database.schema,
        migrationsDir: MIGRATIONS_DIR,
        log: (message) => logger.info(message),
      });
    }
    await pool.query('SELECT 1 FROM roles LIMIT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    failStartup(
      SERVICE_NAME,
      new Error(`database ${redact(config.database.url)}: ${(error as Error).message}`),
    );
  }
  return {
    config,
    logger,
    spans,
    pool,
    prisma: createPrismaClient(pool, config.database.schema),
  };
}

export async function connectNatsOrExit(runtime: Runtime, role: string): Promise<NatsClients> {
  try {
    return await connectNats(runtime.config.nats, `${SERVICE_NAME}:${role}`, runtime.logger);
  } catch (error) {
    return failStartup(
      SERVICE_NAME,
      new Error(`nats ${runtime.config.nats.url}: ${(error as Error).message}`),
    );
  }
}

/** Connection strings may carry a password; logs and messages get the host only. */
const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//');
