import {
  Bus,
  Idempotency,
  listAuditEvents,
  MemoryAuditLog,
  type AuditLog,
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
import { ImportUsersHandler } from './application/commands/import-users.js';
import { RequestEmailVerificationHandler } from './application/commands/request-email-verification.js';
import { RequestPasswordResetHandler } from './application/commands/request-password-reset.js';
import { ResetPasswordHandler } from './application/commands/reset-password.js';
import { VerifyEmailHandler } from './application/commands/verify-email.js';
import { CredentialGuard, composedSignInLookup } from './application/credential-guard.js';
import { MetadataAccess } from './application/metadata-access.js';
import {
  DEFAULT_PRIVILEGED_SESSION,
  type PrivilegedSessionPolicy,
} from './application/privileged-session.js';
import { limitedHashing } from './adapters/crypto/hashing-limiter.js';
import { OtpauthTotp } from './adapters/crypto/otpauth-totp.js';
import { RandomRecoveryCodes } from './adapters/crypto/recovery-codes.js';
import { ConfirmTotpHandler } from './application/commands/confirm-totp.js';
import { EnrollTotpHandler } from './application/commands/enroll-totp.js';
import { RemoveTotpHandler } from './application/commands/remove-totp.js';
import { VerifySecondFactorHandler } from './application/commands/verify-second-factor.js';
import { PHC_IMPORT_FORMATS } from './adapters/crypto/imported-hashes.js';
import { randomOneTimeCodes } from './adapters/crypto/one-time-codes.js';
import type {
  BreachedPasswordChecker,
  Clock,
  HashingLimiter,
  IdGenerator,
  ImportedHashFormats,
  LockoutCounter,
  LoginFailureStore,
  OneTimeCodes,
  OneTimeCodeStore,
  PasswordHasher,
  RecoveryCodes,
  SignInLookup,
  TotpAlgorithm,
  TotpFactorRepository,
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
  /**
   * A sign-in's slot and account in one step: PgSignInLookup in production (one statement); by
   * default the failure store's slot, then the repository's lookup.
   */
  signIns?: SignInLookup;
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
  /** TOTP second factors (secrets sealed under mfa.encryption_key in production). */
  totpFactors: TotpFactorRepository;
  /** RFC 6238 through otpauth, issuer `warden`, by default (main.ts passes mfa.issuer). */
  totp?: TotpAlgorithm;
  /** Random 80-bit codes, kept as SHA-256, by default. */
  recoveryCodes?: RecoveryCodes;
  /** One-time codes of email verification and password reset (hashes only). */
  codeStore: OneTimeCodeStore;
  /** Random 256-bit codes by default. */
  codes?: OneTimeCodes;
  /** What ImportUsers accepts; PHC argon2id/argon2i, bcrypt, scrypt by default. */
  importFormats?: ImportedHashFormats;
  /** auth.notifier_services: who may ask for codes (RequestEmailVerification, RequestPasswordReset). */
  notifierServices?: readonly string[];
  /** auth.privileged_session_max_age: a user's own credential changes need a sign-in this recent. */
  privilegedSession?: PrivilegedSessionPolicy;
  /** The audit trail ListAuditEvents reads: PgAuditLog in production, an empty memory one by default. */
  auditLog?: AuditLog;
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
  const policy = deps.lockout ?? DEFAULT_LOCKOUT;
  const lockouts = deps.lockouts ?? { refused: () => undefined };
  const guard = new CredentialGuard({
    failures: deps.loginFailures,
    hasher: deps.hasher,
    clock,
    policy,
    limiter,
    lockouts,
    signIns: deps.signIns ?? composedSignInLookup(deps.loginFailures, users),
  });
  const factors = deps.totpFactors;
  const totp = deps.totp ?? new OtpauthTotp('warden');
  const recoveryCodes = deps.recoveryCodes ?? new RandomRecoveryCodes();
  const metadata = new MetadataAccess({ authorizer: deps.authorizer });
  const { codeStore } = deps;
  const codes = deps.codes ?? randomOneTimeCodes;
  const notifiers = deps.notifierServices ?? [];
  const privileged = deps.privilegedSession ?? DEFAULT_PRIVILEGED_SESSION;
  const useCases: UseCases = {
    registerUser: new RegisterUserHandler({ users, hasher, breaches, clock, ids, guard }),
    getUser: new GetUserHandler({ directory, metadata }),
    listUsers: new ListUsersHandler({ directory, metadata }),
    updateUser: new UpdateUserHandler({ users, clock, metadata }),
    changePassword: new ChangePasswordHandler({
      users,
      guard,
      hasher,
      breaches,
      clock,
      privileged,
    }),
    disableUser: new DisableUserHandler({ users, clock }),
    enableUser: new EnableUserHandler({ users, clock }),
    deleteUser: new DeleteUserHandler({ users, clock }),
    verifyCredentials: new VerifyCredentialsHandler({ users, guard, hasher }),
    requestEmailVerification: new RequestEmailVerificationHandler({
      users,
      codeStore,
      codes,
      clock,
      notifiers,
    }),
    verifyEmail: new VerifyEmailHandler({ codeStore, codes, clock }),
    requestPasswordReset: new RequestPasswordResetHandler({ codeStore, codes, clock, notifiers }),
    resetPassword: new ResetPasswordHandler({
      codeStore,
      codes,
      hasher,
      breaches,
      failures: deps.loginFailures,
      clock,
    }),
    importUsers: new ImportUsersHandler({
      users,
      formats: deps.importFormats ?? PHC_IMPORT_FORMATS,
      clock,
      ids,
    }),
    enrollTotp: new EnrollTotpHandler({ factors, totp, clock, privileged }),
    confirmTotp: new ConfirmTotpHandler({
      factors,
      totp,
      recoveryCodes,
      clock,
      privileged,
    }),
    removeTotp: new RemoveTotpHandler({
      factors,
      totp,
      recoveryCodes,
      failures: deps.loginFailures,
      policy,
      lockouts,
      clock,
    }),
    listAuditEvents: listAuditEvents(deps.auditLog ?? new MemoryAuditLog()),
    verifySecondFactor: new VerifySecondFactorHandler({
      users,
      factors,
      totp,
      recoveryCodes,
      failures: deps.loginFailures,
      policy,
      lockouts,
      clock,
    }),
  };
  const idempotency = new Idempotency(deps.idempotencyStore, {
    ...(deps.idempotencyTtlMs === undefined ? {} : { ttlMs: deps.idempotencyTtlMs }),
    now: () => clock.now(),
    ...(deps.idempotencyKeyring ? { keyring: deps.idempotencyKeyring } : {}),
  });
  const bus = new Bus({ authorizer: deps.authorizer, idempotency });
  return { bus, useCases, handlers: userServiceHandlers(bus, useCases) };
}
