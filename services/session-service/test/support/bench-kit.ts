import { randomUUID } from 'node:crypto';
import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { AllowAllChecker } from '@warden/bus';
import { createPool, migrate } from '@warden/db';
import { callUnary, createClient, createMetrics, GrpcServer } from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { sessionv1 } from '@warden/proto';
import { TEST_DATABASE_URL, uniqueName } from '@warden/testing';
import { FakeCredentialsVerifier } from './fake-credentials-verifier.js';
import { createPrismaClient } from '../../src/adapters/prisma/prisma-client.js';
import { PgIdempotencyStore } from '@warden/db';
import { PgMfaChallengeStore } from '../../src/adapters/prisma/pg-mfa-challenge-store.js';
import { PrismaSessionRepository } from '../../src/adapters/prisma/prisma-session-repository.js';
import { createSessionApp } from '../../src/app.js';
import { MIGRATIONS_DIR } from '../../src/config.js';
import { createSessionServer } from '../../src/server.js';
import { KEYS } from './grpc.js';
import { someSettings } from './mothers.js';

/** Pieces of bench/validate-session.ts that need the service's dependencies. */
const logger = createLogger({ service: 'bench', level: 'silent' });

/**
 * The server kit's options for both the kit no-op and the real service: alike, so that the gap
 * between them is the service's own work, not a difference in the kit's settings.
 */
const kitOptions = (metricsName: string) => ({
  logger,
  host: '127.0.0.1',
  port: 0,
  maxMessageBytes: 65_536,
  serviceKeys: KEYS,
  rpcDuration: createMetrics(metricsName).rpcDuration,
});

export interface BenchTarget {
  address: string;
  stop(): Promise<void>;
}

/** The physical limit: grpc-js with a ValidateSession handler that answers a constant at once. */
export async function startNoopServer(): Promise<BenchTarget> {
  const server = new Server();
  const response = constantResponse();
  const handlers: UntypedServiceImplementation = {};
  for (const name of Object.keys(sessionv1.SessionServiceService)) handlers[name] = () => undefined;
  handlers.validateSession = (
    _call: ServerUnaryCall<unknown, unknown>,
    callback: sendUnaryData<unknown>,
  ) => callback(null, response);
  server.addService(sessionv1.SessionServiceService, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** The server kit (identity, trace, metrics, error mapping) around a constant answer: what the kit itself costs. */
export async function startKitNoopServer(): Promise<BenchTarget> {
  const server = new GrpcServer({ serviceName: 'kit-noop', ...kitOptions('kit-noop') });
  const response = constantResponse();
  const handlers: Record<string, () => Promise<unknown>> = {};
  for (const name of Object.keys(sessionv1.SessionServiceService))
    handlers[name] = async () => response;
  server.addService(sessionv1.SessionServiceService, handlers as never);
  const address = `127.0.0.1:${await server.listen()}`;
  return { address, stop: () => server.shutdown(1_000) };
}

function constantResponse(): sessionv1.ValidateSessionResponse {
  const now = new Date();
  return sessionv1.ValidateSessionResponse.fromPartial({
    session: {
      id: randomUUID(),
      userId: randomUUID(),
      status: 1,
      createTime: now,
      expireTime: now,
      idleExpireTime: now,
      lastSeenTime: now,
      client: { ipAddress: '127.0.0.1', userAgent: 'bench' },
    },
  });
}

/**
 * The real session-service in-process: Prisma on a schema of its own, the production server kit
 * (identity, metrics, error mapping), and one warmed session whose token the bench validates.
 */
export async function startSessionServer(): Promise<BenchTarget & { token: string }> {
  const schema = uniqueName('bench_session');
  const pool = createPool({
    url: TEST_DATABASE_URL,
    schema,
    poolSize: 10,
    applicationName: 'bench',
  });
  await migrate(pool, { schema, migrationsDir: MIGRATIONS_DIR });
  const prisma = createPrismaClient(pool, schema);
  const credentials = new FakeCredentialsVerifier().addUser(
    'bench@example.com',
    'bench password',
    randomUUID(),
  );
  const app = createSessionApp({
    sessions: new PrismaSessionRepository(pool),
    credentials,
    secondFactors: credentials.secondFactors,
    challenges: new PgMfaChallengeStore(pool),
    authorizer: new AllowAllChecker(),
    idempotencyStore: new PgIdempotencyStore(pool),
    clock: { now: () => new Date() },
    ids: { newId: () => randomUUID() },
    settings: someSettings(),
    cache: { maxEntries: 100_000, ttlMs: 10_000 },
    watch: { allowedServices: ['gateway'], queueSize: 1024 },
    lastSeenFlushIntervalMs: 1_000,
    logger,
  });
  app.flusher.start();
  const server = createSessionServer(app, kitOptions('session-service'));
  const address = `127.0.0.1:${await server.listen()}`;
  const client = benchClient(address);
  const { token } = await callUnary(client.raw.startSession, client.raw, {
    email: 'bench@example.com',
    password: 'bench password',
    requestId: '',
  });
  await client.validate(token);
  client.close();
  return {
    address,
    token,
    async stop() {
      await server.shutdown(1_000);
      await app.flusher.stop();
      await prisma.$disconnect();
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** The gateway's client: the kit's channel with the service key, ValidateSession as a promise. */
export function benchClient(address: string) {
  const raw = createClient(sessionv1.SessionServiceClient, { address, serviceKey: KEYS.gateway });
  return {
    raw,
    validate: (token: string) => callUnary(raw.validateSession, raw, { token }),
    close: () => raw.close(),
  };
}
