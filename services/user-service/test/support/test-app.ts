import {
  MemoryIdempotencyStore,
  TablePermissionChecker,
  type AuditLog,
  type PermissionChecker,
} from '@warden/bus';
import { createUserApp, type UserApp } from '../../src/app.js';
import { MemoryLoginFailureStore } from '../../src/adapters/memory/memory-login-failure-store.js';
import { OtpauthTotp } from '../../src/adapters/crypto/otpauth-totp.js';
import { MemoryOneTimeCodeStore } from '../../src/adapters/memory/memory-one-time-code-store.js';
import { MemoryTotpFactorRepository } from '../../src/adapters/memory/memory-totp-factor-repository.js';
import { MemoryUserRepository } from '../../src/adapters/memory/memory-user-repository.js';
import type { HashingLimiter, PasswordHasher } from '../../src/application/ports.js';
import type { PrivilegedSessionPolicy } from '../../src/application/privileged-session.js';
import type { LockoutPolicy } from '../../src/domain/login-failures.js';
import type { User } from '../../src/domain/user.js';
import { FakeBreachedPasswords, FakePasswordHasher, FixedClock } from './fakes.js';

export interface TestApp extends UserApp {
  users: MemoryUserRepository;
  loginFailures: MemoryLoginFailureStore;
  idempotencyStore: MemoryIdempotencyStore;
  hasher: FakePasswordHasher;
  /** The one-time codes stored (hashes only). */
  codeStore: MemoryOneTimeCodeStore;
  breaches: FakeBreachedPasswords;
  clock: FixedClock;
  authorizer: PermissionChecker;
  /** Attempts refused because their email was locked. */
  lockouts: { count: number };
  /** TOTP factors (secrets in the clear: the Prisma twin seals them). */
  totpFactors: MemoryTotpFactorRepository;
  /** Puts users straight into the repository, bypassing RegisterUser. */
  given(...users: User[]): Promise<void>;
}

/** The real application over memory adapters and fakes: the same createUserApp production uses. */
export function aTestApp(
  options: {
    authorizer?: PermissionChecker;
    breached?: string[];
    lockout?: LockoutPolicy;
    hashingLimiter?: HashingLimiter;
    /** A real hasher instead of the fake (the imported-hash tests); `hasher` stays the fake. */
    passwordHasher?: PasswordHasher;
    /** auth.notifier_services; default: the gateway. */
    notifiers?: string[];
    /** auth.privileged_session_max_age; default 15 min. */
    privilegedSession?: PrivilegedSessionPolicy;
    /** The trail ListAuditEvents reads; an empty memory one by default. */
    auditLog?: AuditLog;
  } = {},
): TestApp {
  const loginFailures = new MemoryLoginFailureStore();
  const users = new MemoryUserRepository(loginFailures);
  const idempotencyStore = new MemoryIdempotencyStore();
  const hasher = new FakePasswordHasher();
  const breaches = new FakeBreachedPasswords(options.breached);
  const clock = new FixedClock();
  const authorizer = options.authorizer ?? new TablePermissionChecker({ 'service:gateway': ['*'] });
  const lockouts = { count: 0 };
  const codeStore = new MemoryOneTimeCodeStore(users);
  const totpFactors = new MemoryTotpFactorRepository(users);
  const app = createUserApp({
    users,
    directory: users,
    loginFailures,
    idempotencyStore,
    hasher: options.passwordHasher ?? hasher,
    codeStore,
    notifierServices: options.notifiers ?? ['gateway'],
    totpFactors,
    totp: new OtpauthTotp('warden-test'),
    breaches,
    authorizer,
    clock,
    lockouts: { refused: () => void lockouts.count++ },
    ...(options.lockout ? { lockout: options.lockout } : {}),
    ...(options.hashingLimiter ? { hashingLimiter: options.hashingLimiter } : {}),
    ...(options.privilegedSession ? { privilegedSession: options.privilegedSession } : {}),
    ...(options.auditLog ? { auditLog: options.auditLog } : {}),
  });
  return {
    ...app,
    users,
    loginFailures,
    idempotencyStore,
    hasher,
    codeStore,
    breaches,
    clock,
    authorizer,
    lockouts,
    totpFactors,
    async given(...given: User[]) {
      for (const user of given) await users.add({ user, events: [] });
    },
  };
}
