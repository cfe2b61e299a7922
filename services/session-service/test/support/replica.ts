import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { TablePermissionChecker } from '@warden/bus';
import type { GrpcServer } from '@warden/grpc';
import { FakeCredentialsVerifier } from './fake-credentials-verifier.js';
import { followSessionEvents } from '../../src/adapters/nats/session-event-feed.js';
import { PgIdempotencyStore } from '@warden/db';
import { PgMfaChallengeStore } from '../../src/adapters/prisma/pg-mfa-challenge-store.js';
import { PrismaSessionRepository } from '../../src/adapters/prisma/prisma-session-repository.js';
import type { Clock } from '../../src/application/ports.js';
import type { SessionSettings } from '../../src/application/settings.js';
import { createSessionApp, type SessionApp, type SessionAppDeps } from '../../src/app.js';
import { createSessionServer } from '../../src/server.js';
import type { MigratedSchema } from './database.js';
import { KEYS } from './grpc.js';
import { someSettings } from './mothers.js';
import { silentLogger } from './test-app.js';

export interface Replica extends SessionApp {
  address: string;
  sessions: PrismaSessionRepository;
  stop(): Promise<void>;
}

/**
 * session-service's app over one schema's Postgres, as a replica runs it, without its server or
 * event feed: the sessions, challenges and idempotency records of `db`. Each dependency a test
 * varies (a dying idempotency store, a later clock, a shared keyring) can be given.
 */
export function postgresSessionApp(
  db: MigratedSchema,
  deps: {
    credentials: FakeCredentialsVerifier;
    settings?: Partial<SessionSettings>;
  } & Partial<
    Pick<
      SessionAppDeps,
      | 'sessions'
      | 'authorizer'
      | 'idempotencyStore'
      | 'idempotencyKeyring'
      | 'clock'
      | 'lastSeenFlushIntervalMs'
    >
  >,
): SessionApp {
  const { credentials, settings, ...given } = deps;
  return createSessionApp({
    sessions: new PrismaSessionRepository(db.pool),
    secondFactors: credentials.secondFactors,
    challenges: new PgMfaChallengeStore(db.pool),
    authorizer: new TablePermissionChecker(),
    idempotencyStore: new PgIdempotencyStore(db.pool),
    clock: { now: () => new Date() },
    ids: { newId: () => randomUUID() },
    cache: { maxEntries: 1_000, ttlMs: 60_000 },
    watch: { allowedServices: ['gateway'], queueSize: 256 },
    lastSeenFlushIntervalMs: 100,
    logger: silentLogger,
    ...given,
    credentials,
    settings: someSettings(settings),
  });
}

/** One in-process session-service replica on a shared schema: Prisma, the NATS feed, a gRPC server. */
export async function startReplica(
  db: MigratedSchema,
  nc: NatsConnection,
  deps: {
    credentials: FakeCredentialsVerifier;
    permissions: TablePermissionChecker;
    clock?: Clock;
    settings?: Partial<SessionSettings>;
  },
): Promise<Replica> {
  const sessions = new PrismaSessionRepository(db.pool);
  const app = postgresSessionApp(db, {
    sessions,
    credentials: deps.credentials,
    authorizer: deps.permissions,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.settings ? { settings: deps.settings } : {}),
  });
  const feed = followSessionEvents(nc, app, { logger: silentLogger });
  await nc.flush();
  app.flusher.start();
  const server: GrpcServer = createSessionServer(app, {
    logger: silentLogger,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 65_536,
    serviceKeys: KEYS,
  });
  const address = `127.0.0.1:${await server.listen()}`;
  return {
    ...app,
    sessions,
    address,
    async stop() {
      await server.shutdown(500);
      await app.flusher.stop();
      await feed.stop();
    },
  };
}
