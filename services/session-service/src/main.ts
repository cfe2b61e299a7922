// session-service gRPC server: sessions, token validation and the WatchSessions feed.
import { createAuthzChecker } from '@warden/authz-client';
import { PgIdempotencyStore } from '@warden/db';
import { PgAuditLog, uuidv7 } from '@warden/events';
import { cacheMetrics, eventMetrics, startProcess } from '@warden/runtime';
import { AccessTokenSigner } from './adapters/crypto/access-token-signer.js';
import { GrpcCredentialsVerifier } from './adapters/clients/grpc-credentials-verifier.js';
import { GrpcSecondFactorVerifier } from './adapters/clients/grpc-second-factor-verifier.js';
import { JWKS_PATH, jwksRoute } from './adapters/http/jwks-route.js';
import { JetStreamRevocationFeed } from './adapters/nats/jetstream-revocation-feed.js';
import { followSessionEvents } from './adapters/nats/session-event-feed.js';
import { PgMfaChallengeStore } from './adapters/prisma/pg-mfa-challenge-store.js';
import { PgSigningKeyStore } from './adapters/prisma/pg-signing-key-store.js';
import { PrismaSessionRepository } from './adapters/prisma/prisma-session-repository.js';
import { createSessionApp } from './app.js';
import { shuttingDown } from './errors.js';
import { sessionService, signingSecret } from './config.js';
import { createSessionServer } from './server.js';

const proc = await startProcess({ ...sessionService, role: 'server' });
const { config, logger, pool, metrics } = proc;
const idempotencyKeys = proc.idempotencyKeys();
const { nc, js, jsm } = await proc.nats();
const authorizer = createAuthzChecker(await proc.peer(config.authz));
const credentials = new GrpcCredentialsVerifier(
  proc.client(config.user_service.address, { deadlineMs: config.user_service.deadline }),
);
const secondFactors = new GrpcSecondFactorVerifier(
  proc.client(config.user_service.address, { deadlineMs: config.user_service.deadline }),
);
proc.onStop('close clients', async () => {
  credentials.close();
  secondFactors.close();
  await authorizer.close();
});
const clock = { now: () => new Date() };
const tokens = config.access_tokens;
const accessTokens = tokens.enabled
  ? new AccessTokenSigner(
      new PgSigningKeyStore(pool),
      {
        issuer: tokens.issuer,
        ttlMs: tokens.ttl,
        rotationMs: tokens.rotation,
        refreshMs: tokens.key_refresh,
        secret: signingSecret(tokens),
        previousSecrets: tokens.previous_signing_secrets,
      },
      clock,
      logger,
    )
  : undefined;
if (accessTokens) {
  // A signing key before the first call; then every key_refresh picks up rotations.
  await accessTokens.refresh();
  proc.every('access token keys', tokens.key_refresh, () => accessTokens.refresh());
}
const revocationFeed = new JetStreamRevocationFeed(
  { js, jsm },
  { capacity: config.revocations.queue_size, logger },
);
const app = createSessionApp({
  sessions: new PrismaSessionRepository(pool),
  auditLog: new PgAuditLog(pool),
  credentials,
  secondFactors,
  challenges: new PgMfaChallengeStore(pool),
  authorizer,
  idempotencyStore: new PgIdempotencyStore(pool),
  idempotencyKeyring: idempotencyKeys,
  clock,
  ids: { newId: () => uuidv7() },
  settings: {
    absoluteTtlMs: config.session.absolute_ttl,
    idleTimeoutMs: config.session.idle_timeout,
    maxPerUser: config.session.max_per_user,
    tokenBytes: config.session.token_bytes,
  },
  cache: { maxEntries: config.cache.max_entries, ttlMs: config.cache.ttl },
  watch: {
    allowedServices: config.watch.allowed_services,
    queueSize: config.watch.queue_size,
    limits: {
      maxStreams: config.watch.max_streams,
      maxStreamsPerCaller: config.watch.max_streams_per_caller,
    },
  },
  lastSeenFlushIntervalMs: config.session.last_seen_flush_interval,
  logger,
  ...(accessTokens ? { accessTokens } : {}),
  revocations: {
    feed: revocationFeed,
    allowedServices: config.revocations.allowed_services,
    limits: {
      maxStreams: config.revocations.max_streams,
      maxStreamsPerCaller: config.revocations.max_streams_per_caller,
    },
  },
});
const feed = followSessionEvents(nc, app, { logger, metrics: eventMetrics(metrics.registry) });
proc.onStop('stop session events', () => feed.stop());
cacheMetrics(metrics.registry, { session: app.cache.stats, authz: authorizer.cacheStats });
app.flusher.start();
proc.onStop('flush session activity', () => app.flusher.stop());

const port = await proc.serve(createSessionServer(app, proc.serverOptions()));
// Runs first at shutdown: watchers are told to reconnect elsewhere before calls drain.
proc.onStop('end watch streams', async () => {
  app.hub.failAll(shuttingDown());
  revocationFeed.failAll(shuttingDown());
});
const metricsPort = await proc.serveMetrics(
  config.metrics.port,
  accessTokens ? { [JWKS_PATH]: jwksRoute(accessTokens, tokens.key_refresh) } : {},
);
logger.info({ port, metricsPort }, 'session-service serving');
