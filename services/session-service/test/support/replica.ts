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
import { createSessionApp, type SessionApp } from '../../src/app.js';
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
  const app = createSessionApp({
    sessions,
    credentials: deps.credentials,
    secondFactors: deps.credentials.secondFactors,
    challenges: new PgMfaChallengeStore(db.pool),
    authorizer: deps.permissions,
    idempotencyStore: new PgIdempotencyStore(db.pool),
    clock: deps.clock ?? { now: () => new Date() },
    ids: { newId: () => randomUUID() },
    settings: someSettings(deps.settings),
    cache: { maxEntries: 1_000, ttlMs: 60_000 },
    watch: { allowedServices: ['gateway'], queueSize: 256 },
    lastSeenFlushIntervalMs: 100,
    logger: silentLogger,
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
