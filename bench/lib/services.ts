// user-service and session-service built in-process the way their main.ts builds them (Prisma on a
// migrated schema of their own, production argon2 parameters, the production server kit), on
// loopback, for the benchmarks. What is not theirs to measure is stood in for: no NATS (nothing
// here reads events), an allow-all authorizer (authz has bench/check-permission.ts), no breach check.
import { randomUUID } from 'node:crypto';
import { AllowAllChecker } from '../../libs/bus/src/index.js';
import { migrate, PgIdempotencyStore } from '../../libs/db/src/index.js';
import { callUnary, createClient, createMetrics, type GrpcServer } from '@warden/grpc';
import { createLogger } from '../../libs/logger/src/index.js';
import { sessionv1, userv1 } from '../../libs/proto/src/index.js';
import { testSchema, type TestSchema } from '../../libs/testing/src/index.js';
import { createUserApp, type UserApp } from '../../services/user-service/src/app.js';
import {
  Argon2PasswordHasher,
  STANDARD_ARGON2,
} from '../../services/user-service/src/adapters/crypto/argon2-password-hasher.js';
import { QueueingHashingLimiter } from '../../services/user-service/src/adapters/crypto/hashing-limiter.js';
import { ImportedHashesVerifier } from '../../services/user-service/src/adapters/crypto/imported-hashes.js';
import { NO_BREACH_CHECK } from '../../services/user-service/src/adapters/http/breached-password-client.js';
import {
  PgSignInLookup,
  PrismaLoginFailureStore,
} from '../../services/user-service/src/adapters/prisma/prisma-login-failure-store.js';
import { PrismaOneTimeCodeStore } from '../../services/user-service/src/adapters/prisma/prisma-one-time-code-store.js';
import { SecretBox } from '../../services/user-service/src/adapters/crypto/secret-box.js';
import { PrismaTotpFactorRepository } from '../../services/user-service/src/adapters/prisma/prisma-totp-factor-repository.js';
import { GrpcSecondFactorVerifier } from '../../services/session-service/src/adapters/clients/grpc-second-factor-verifier.js';
import { PgMfaChallengeStore } from '../../services/session-service/src/adapters/prisma/pg-mfa-challenge-store.js';
import { PrismaUserDirectory } from '../../services/user-service/src/adapters/prisma/prisma-user-directory.js';
import { PrismaUserRepository } from '../../services/user-service/src/adapters/prisma/prisma-user-repository.js';
import type { PasswordHasher } from '../../services/user-service/src/application/ports.js';
import { migrateUserSchema } from '../../services/user-service/test/support/database.js';
import { createUserServer } from '../../services/user-service/src/server.js';
import { GrpcCredentialsVerifier } from '../../services/session-service/src/adapters/clients/grpc-credentials-verifier.js';
import {
  createPrismaClient as createSessionPrisma,
  type PrismaClient as SessionPrisma,
} from '../../services/session-service/src/adapters/prisma/prisma-client.js';
import { PrismaSessionRepository } from '../../services/session-service/src/adapters/prisma/prisma-session-repository.js';
import type { CredentialsVerifier } from '../../services/session-service/src/application/ports.js';
import { createSessionApp, type SessionApp } from '../../services/session-service/src/app.js';
import { MIGRATIONS_DIR as SESSION_MIGRATIONS } from '../../services/session-service/src/config.js';
import { createSessionServer } from '../../services/session-service/src/server.js';

export const KEYS = {
  gateway: 'dev-key-gateway-000000000',
  'session-service': 'dev-key-session-service-0',
};
/** config.yaml's database.pool_size for every service. */
export const POOL_SIZE = 10;
const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;
const logger = createLogger({ service: 'bench', level: 'silent' });

/** The server kit's options as main.ts passes them, but on an ephemeral loopback port. */
const loopbackKit = (service: string) => ({
  logger,
  host: '127.0.0.1',
  port: 0,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  serviceKeys: KEYS,
  rpcDuration: createMetrics(service).rpcDuration,
});

export interface UserService {
  address: string;
  db: TestSchema;
  app: UserApp;
  users: PrismaUserRepository;
  stop(): Promise<void>;
}

/**
 * user-service as main.ts wires it, on a fresh migrated schema, with the production argon2
 * parameters; `hasher` replaces argon2 only to take the gap apart (what is not hashing).
 */
export async function startUserService(
  options: { hasher?: PasswordHasher } = {},
): Promise<UserService> {
  const db = await testSchema('bench_user', POOL_SIZE);
  try {
    await migrateUserSchema(db.pool, db.schema);
    const users = new PrismaUserRepository(db.pool);
    const app = createUserApp({
      users,
      directory: new PrismaUserDirectory(db.pool),
      loginFailures: new PrismaLoginFailureStore(db.pool),
      signIns: new PgSignInLookup(db.pool),
      idempotencyStore: new PgIdempotencyStore(db.pool),
      // As main.ts: argon2id for new hashes, imported formats (bcrypt, scrypt) verified as they are.
      hasher: new ImportedHashesVerifier(
        options.hasher ?? (await Argon2PasswordHasher.create(STANDARD_ARGON2)),
      ),
      codeStore: new PrismaOneTimeCodeStore(db.pool),
      notifierServices: ['gateway'],
      totpFactors: new PrismaTotpFactorRepository(
        db.pool,
        new SecretBox('bench-mfa-key-000000000000000000000'),
      ),
      // config.yaml's defaults: twice the thread pool running, 256 waiting.
      hashingLimiter: new QueueingHashingLimiter({ maxConcurrent: 0, maxQueue: 256 }),
      breaches: NO_BREACH_CHECK,
      authorizer: new AllowAllChecker(),
    });
    const server: GrpcServer = createUserServer(app, loopbackKit('user-service'));
    const address = `127.0.0.1:${await server.listen()}`;
    return {
      address,
      db,
      app,
      users,
      async stop() {
        await server.shutdown(1_000);
        await db.drop();
      },
    };
  } catch (error) {
    await db.drop();
    throw error;
  }
}

export interface SessionService {
  address: string;
  db: TestSchema;
  app: SessionApp;
  sessions: PrismaSessionRepository;
  prisma: SessionPrisma;
  stop(): Promise<void>;
}

/**
 * session-service as main.ts wires it, on a fresh migrated schema. `userService` is the address of
 * a user-service: credentials then go over its gRPC client adapter, as in production.
 */
export async function startSessionService(
  options: { userService?: string; credentials?: CredentialsVerifier } = {},
): Promise<SessionService> {
  const db = await testSchema('bench_session', POOL_SIZE);
  const grpcCredentials = options.userService
    ? new GrpcCredentialsVerifier({
        address: options.userService,
        serviceKey: KEYS['session-service'],
        deadlineMs: 5_000,
      })
    : undefined;
  const credentials = grpcCredentials ?? options.credentials;
  if (!credentials) throw new Error('session-service needs a user-service address or credentials');
  try {
    await migrate(db.pool, { schema: db.schema, migrationsDir: SESSION_MIGRATIONS });
    const prisma = createSessionPrisma(db.pool, db.schema);
    const sessions = new PrismaSessionRepository(db.pool);
    // config.yaml's values: sessions, cache and activity flushing as deployed.
    const app = createSessionApp({
      sessions,
      credentials,
      secondFactors: options.userService
        ? new GrpcSecondFactorVerifier({
            address: options.userService,
            serviceKey: KEYS['session-service'],
            deadlineMs: 5_000,
          })
        : { verify: () => Promise.reject(new Error('this bench has no second factors')) },
      challenges: new PgMfaChallengeStore(db.pool),
      authorizer: new AllowAllChecker(),
      idempotencyStore: new PgIdempotencyStore(db.pool),
      clock: { now: () => new Date() },
      ids: { newId: () => randomUUID() },
      settings: SESSION_SETTINGS,
      cache: { maxEntries: 100_000, ttlMs: 10_000 },
      watch: { allowedServices: ['gateway'], queueSize: 1024 },
      lastSeenFlushIntervalMs: 1_000,
      logger,
    });
    app.flusher.start();
    const server = createSessionServer(app, loopbackKit('session-service'));
    const address = `127.0.0.1:${await server.listen()}`;
    return {
      address,
      db,
      app,
      sessions,
      prisma,
      async stop() {
        await server.shutdown(1_000);
        await app.flusher.stop();
        grpcCredentials?.close();
        await prisma.$disconnect();
        await db.drop();
      },
    };
  } catch (error) {
    grpcCredentials?.close();
    await db.drop();
    throw error;
  }
}

/** session-service's config.yaml lifetimes and limits. */
export const SESSION_SETTINGS = {
  absoluteTtlMs: 24 * 3_600_000,
  idleTimeoutMs: 30 * 60_000,
  maxPerUser: 10,
  tokenBytes: 32,
};

type Ctx = Parameters<typeof callUnary>[3];

/** The gateway's clients: the kit's channel with the gateway's service key, calls as promises. */
export function gatewayClients(addresses: { user?: string; session?: string }) {
  const user =
    addresses.user &&
    createClient(userv1.UserServiceClient, { address: addresses.user, serviceKey: KEYS.gateway });
  const session =
    addresses.session &&
    createClient(sessionv1.SessionServiceClient, {
      address: addresses.session,
      serviceKey: KEYS.gateway,
    });
  const need = <T>(client: T | '' | undefined, name: string): T => {
    if (!client) throw new Error(`no ${name} address given`);
    return client;
  };
  return {
    registerUser: (request: userv1.RegisterUserRequest) => {
      const c = need(user, 'user-service');
      return callUnary(c.registerUser, c, request);
    },
    startSession: (request: sessionv1.StartSessionRequest) => {
      const c = need(session, 'session-service');
      return callUnary(c.startSession, c, request);
    },
    endSession: (request: sessionv1.EndSessionRequest, ctx: Ctx) => {
      const c = need(session, 'session-service');
      return callUnary(c.endSession, c, request, ctx);
    },
    close() {
      if (user) user.close();
      if (session) session.close();
    },
  };
}
