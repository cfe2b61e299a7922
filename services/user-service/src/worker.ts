import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '@warden/db';
import { awaitStream, connectNats, OutboxRelay, STREAMS } from '@warden/events';
import { failStartup, onShutdown } from '@warden/grpc';
import { createLogger, startTracing, type Logger } from '@warden/logger';
import { createPrismaClient } from './adapters/prisma/prisma-client.js';
import { Sweeper } from './adapters/prisma/sweeper.js';
import { loadUserConfig } from './config.js';
import { migrateUserSchema } from './migrations.js';
import { SERVICE_NAME } from './server.js';

/** Background work: publishes the outbox to WARDEN_USER and sweeps expired rows. */
async function main(): Promise<void> {
  const config = loadUserConfig();
  const logger = createLogger({ service: SERVICE_NAME, level: config.log.level }).child({
    role: 'worker',
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
    applicationName: `${SERVICE_NAME}:worker`,
  });
  if (database.migrate_on_start)
    await migrateUserSchema(pool, database.schema, (line) => logger.info(line));
  const prisma = createPrismaClient(pool, database.schema);
  const { nc, js, jsm } = await connectNats(config.nats, `${SERVICE_NAME}-worker`, logger);
  await awaitStream(jsm, STREAMS.user.name, logger);

  const relay = new OutboxRelay({ pool, js, logger });
  relay.start();
  const sweeper = new Sweeper(prisma, pool, {
    idempotencyTtlMs: config.idempotency.ttl,
    lockoutWindowMs: config.lockout.window,
    outboxRetentionMs: config.worker.outbox_retention,
  });
  const stopSweeping = new AbortController();
  const sweeping = sweepEvery(sweeper, config.worker.sweep_interval, logger, stopSweeping.signal);
  logger.info({ stream: STREAMS.user.name }, 'user-service worker running');

  onShutdown(logger, [
    [
      'sweeper',
      async () => {
        stopSweeping.abort();
        await sweeping;
      },
    ],
    ['outbox relay', () => relay.stop()],
    ['nats', () => nc.drain()],
    ['prisma', () => prisma.$disconnect()],
    ['database pool', () => pool.end()],
    ['spans', () => spans.shutdown()],
  ]);
}

/** One sweep at a time, then a pause: a slow sweep never overlaps the next. */
async function sweepEvery(
  sweeper: Sweeper,
  intervalMs: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const swept = await sweeper.sweepOnce();
      if (swept.idempotencyKeys + swept.loginFailures + swept.outboxRows > 0)
        logger.info(swept, 'swept expired rows');
    } catch (error) {
      logger.error({ err: error }, 'sweep failed; will retry');
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

main().catch((error: unknown) => failStartup(`${SERVICE_NAME} worker`, error));
