// user-service worker: publishes the outbox to WARDEN_USER and sweeps expired rows.
import { awaitStream, outboxBacklog, OutboxRelay, pruneAuditEvents, STREAMS } from '@warden/events';
import { recordProducerSpan } from '@warden/logger';
import { failStartup, outboxMetrics, startProcess } from '@warden/runtime';
import { Sweeper } from './adapters/prisma/sweeper.js';
import { SERVICE_NAME, userService } from './config.js';

const proc = await startProcess({ ...userService, role: 'worker' });
const { config, logger, pool } = proc;
const { js, jsm } = await proc.nats();
await awaitStream(jsm, STREAMS.user.name, logger, { replicas: config.nats.stream_replicas }).catch(
  (e: unknown) => failStartup(SERVICE_NAME, e),
);

const relay = new OutboxRelay({ pool, js, logger, observe: recordProducerSpan });
relay.start();
outboxMetrics(proc.metrics.registry, () => outboxBacklog(pool));
proc.onStop('flush outbox', () => relay.stop());

const sweeper = new Sweeper(pool, {
  idempotencyTtlMs: config.idempotency.ttl,
  lockoutWindowMs: config.lockout.window,
  outboxRetentionMs: config.worker.outbox_retention,
});
proc.every('sweep expired rows', config.worker.sweep_interval, async () => {
  const swept = await sweeper.sweepOnce();
  if (swept.idempotencyKeys + swept.loginFailures + swept.outboxRows > 0)
    logger.info(swept, 'swept expired rows');
  const auditEvents = await pruneAuditEvents(pool, new Date(Date.now() - config.audit.retention));
  if (auditEvents > 0) logger.info({ auditEvents }, 'audit entries past audit.retention deleted');
});

const metricsPort = await proc.serveMetrics(config.worker.metrics_port);
const healthPort = await proc.serveHealth(config.worker.health_port);
logger.info({ stream: STREAMS.user.name, metricsPort, healthPort }, 'user-service worker running');
