import {
  Bus,
  Idempotency,
  type IdempotencyKeyring,
  type IdempotencyStore,
  type PermissionChecker,
} from '@warden/bus';
import { uuidv7 } from '@warden/events';
import { ChangePasswordHandler } from './application/commands/change-password.js';
import { DeleteUserHandler } from './application/commands/delete-user.js';
import { RegisterUserHandler } from './application/commands/register-user.js';
import { DisableUserHandler } from './application/commands/disable-user.js';
import { EnableUserHandler } from './application/commands/enable-user.js';
import { UpdateUserHandler } from './application/commands/update-user.js';
import { VerifyCredentialsHandler } from './application/commands/verify-credentials.js';
import { CredentialGuard } from './application/credential-guard.js';
import { limitedHashing } from './adapters/crypto/hashing-limiter.js';
import type {
  BreachedPasswordChecker,
  Clock,
  HashingLimiter,
  IdGenerator,
  LockoutCounter,
  LoginFailureStore,
  PasswordHasher,
  UserDirectory,
  UserRepository,
} from './application/ports.js';
import { GetUserHandler } from './application/queries/get-user.js';
import { ListUsersHandler } from './application/queries/list-users.js';
import type { UseCases } from './application/use-cases.js';
import { DEFAULT_LOCKOUT, type LockoutPolicy } from './domain/login-failures.js';
import {
  userServiceHandlers,
  type UserServiceHandlers,
} from './adapters/grpc/user-service-handlers.js';

export interface UserAppDeps {
  users: UserRepository;
  directory: UserDirectory;
  loginFailures: LoginFailureStore;
  idempotencyStore: IdempotencyStore;
  hasher: PasswordHasher;
  /** Bounds argon2 work (password.hashing.max_concurrent / max_queue); none in tests. */
  hashingLimiter?: HashingLimiter;
  breaches: BreachedPasswordChecker;
  authorizer: PermissionChecker;
  lockout?: LockoutPolicy;
  /** Counts refusals of a locked email (warden_lockouts_total); none in tests. */
  lockouts?: LockoutCounter;
  idempotencyTtlMs?: number;
  /** Keys of idempotency records (idempotency.secret); tests get a random one. */
  idempotencyKeyring?: IdempotencyKeyring;
  clock?: Clock;
  ids?: IdGenerator;
}

export interface UserApp {
  bus: Bus;
  useCases: UseCases;
  /** The gRPC inbound adapter, ready for `GrpcServer.addService(userv1.UserServiceService, ...)`. */
  handlers: UserServiceHandlers;
}

export const systemClock: Clock = { now: () => new Date() };
const UNLIMITED: HashingLimiter = { run: (work) => work() };
export const uuidv7Ids: IdGenerator = { newId: () => uuidv7() };

/** The composition root: plain constructors. Production passes Prisma adapters, tests memory ones. */
export function createUserApp(deps: UserAppDeps): UserApp {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? uuidv7Ids;
  const { users, directory, breaches } = deps;
  const limiter = deps.hashingLimiter ?? UNLIMITED;
  const hasher = limitedHashing(deps.hasher, limiter);
  const guard = new CredentialGuard({
    failures: deps.loginFailures,
    hasher: deps.hasher,
    clock,
    policy: deps.lockout ?? DEFAULT_LOCKOUT,
    limiter,
    lockouts: deps.lockouts ?? { refused: () => undefined },
  });
  const useCases: UseCases = {
    registerUser: new RegisterUserHandler({ users, hasher, breaches, clock, ids, guard }),
    getUser: new GetUserHandler({ directory }),
    listUsers: new ListUsersHandler({ directory }),
    updateUser: new UpdateUserHandler({ users, clock }),
    changePassword: new ChangePasswordHandler({ users, guard, hasher, breaches, clock }),
    disableUser: new DisableUserHandler({ users, clock }),
    enableUser: new EnableUserHandler({ users, clock }),
    deleteUser: new DeleteUserHandler({ users, clock }),
    verifyCredentials: new VerifyCredentialsHandler({ users, guard }),
  };
  const idempotency = new Idempotency(deps.idempotencyStore, {
    ...(deps.idempotencyTtlMs === undefined ? {} : { ttlMs: deps.idempotencyTtlMs }),
    now: () => clock.now(),
    ...(deps.idempotencyKeyring ? { keyring: deps.idempotencyKeyring } : {}),
  });
  const bus = new Bus({ authorizer: deps.authorizer, idempotency });
  return { bus, useCases, handlers: userServiceHandlers(bus, useCases) };
}
