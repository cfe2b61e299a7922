// user-service gRPC server: accounts, credentials and their lockout.
import { createAuthzChecker } from '@warden/authz-client';
import { PgIdempotencyStore } from '@warden/db';
import { PgAuditLog } from '@warden/events';
import { registerCounter } from '@warden/grpc';
import { cacheMetrics, startProcess } from '@warden/runtime';
import { createSessionResolver } from '@warden/session-client';
import { createUserApp } from './app.js';
import { Argon2PasswordHasher } from './adapters/crypto/argon2-password-hasher.js';
import { QueueingHashingLimiter } from './adapters/crypto/hashing-limiter.js';
import { ImportedHashesVerifier } from './adapters/crypto/imported-hashes.js';
import { OtpauthTotp } from './adapters/crypto/otpauth-totp.js';
import { secretBoxFrom } from './adapters/crypto/secret-box.js';
import {
  BreachedPasswordClient,
  NO_BREACH_CHECK,
} from './adapters/http/breached-password-client.js';
import {
  PgSignInLookup,
  PrismaLoginFailureStore,
} from './adapters/prisma/prisma-login-failure-store.js';
import { PrismaOneTimeCodeStore } from './adapters/prisma/prisma-one-time-code-store.js';
import { PrismaTotpFactorRepository } from './adapters/prisma/prisma-totp-factor-repository.js';
import { PrismaUserDirectory } from './adapters/prisma/prisma-user-directory.js';
import { PrismaUserRepository } from './adapters/prisma/prisma-user-repository.js';
import { toArgon2Params, userService } from './config.js';
import { createUserServer } from './server.js';

const proc = await startProcess({ ...userService, role: 'server' });
const { config, logger, pool, metrics } = proc;
const idempotencyKeys = proc.idempotencyKeys();
const authorizer = createAuthzChecker(await proc.peer(config.authz));
const sessions = createSessionResolver(await proc.peer(config.session));
proc.onStop('close service clients', () => Promise.all([authorizer.close(), sessions.close()]));

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
const lockouts = registerCounter(
  metrics.registry,
  'warden_lockouts_total',
  'sign-in and password-change attempts refused because the email is locked (ACCOUNT_LOCKED)',
);
cacheMetrics(metrics.registry, { authz: authorizer.cacheStats });
const breachCheck = config.password.breach_check;
const app = createUserApp({
  users: new PrismaUserRepository(pool),
  auditLog: new PgAuditLog(pool),
  directory: new PrismaUserDirectory(pool),
  loginFailures: new PrismaLoginFailureStore(pool),
  signIns: new PgSignInLookup(pool),
  idempotencyStore: new PgIdempotencyStore(pool),
  // New hashes are argon2id; bcrypt and scrypt hashes from ImportUsers verify as they are.
  hasher: new ImportedHashesVerifier(
    await Argon2PasswordHasher.create(toArgon2Params(config.password.hashing), (matched) =>
      passwordChecks.inc({ result: matched ? 'match' : 'mismatch' }),
    ),
  ),
  codeStore: new PrismaOneTimeCodeStore(pool),
  notifierServices: config.auth.notifier_services,
  privilegedSession: { maxAgeMs: config.auth.privileged_session_max_age },
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
  lockouts: { refused: () => lockouts.inc() },
  idempotencyTtlMs: config.idempotency.ttl,
  idempotencyKeyring: idempotencyKeys,
  totpFactors: new PrismaTotpFactorRepository(
    pool,
    secretBoxFrom(config.mfa, { production: process.env.NODE_ENV === 'production' }),
  ),
  totp: new OtpauthTotp(config.mfa.issuer),
});

const port = await proc.serve(
  createUserServer(app, {
    ...proc.serverOptions(),
    resolveUser: (token, ctx) => sessions.resolve(token, ctx),
  }),
);
const metricsPort = await proc.serveMetrics(config.metrics.port);
logger.info({ port, metricsPort }, 'user-service serving');
