import type { Change, User, UserStatus, UserView } from '../domain/user.js';
import type { UserEvent } from '../domain/user-events.js';
import type { FailureSlot, LockoutPolicy, LoginFailures } from '../domain/login-failures.js';
import type { MfaHolder, TotpChange, TotpFactor } from '../domain/totp-factor.js';
import type { CodePurpose, CodeVerdict } from '../domain/one-time-code.js';

/**
 * Write side of users. Each method is one transaction: state and the events' outbox rows are
 * saved together. `traceparent` travels with the events.
 */
export interface UserRepository {
  /** Throws EMAIL_TAKEN when the email is registered already (decided by the unique index). */
  add(change: Change, traceparent?: string): Promise<void>;
  get(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  /** Loads the user locked, applies `decide`, saves its result. NOT_FOUND when there is no such user. */
  update(id: string, decide: (user: User) => Change, traceparent?: string): Promise<User>;
  /**
   * Erases the user, the login failures of their email, the personal data in their outbox rows and
   * the idempotent responses about them. NOT_FOUND when there is no such user.
   */
  remove(id: string, decide: (user: User) => UserEvent, traceparent?: string): Promise<void>;
  /**
   * ImportUsers: adds the users that fit, each with its events, in one transaction; a user whose
   * email or external id is taken is skipped. One outcome per change, in order.
   */
  addMany(changes: readonly Change[], traceparent?: string): Promise<AddOutcome[]>;
}

export type AddOutcome = 'ADDED' | 'EMAIL_TAKEN' | 'EXTERNAL_ID_TAKEN';

/** Whose code: a user by id (email verification) or by email (password reset). */
export type CodeOwner = { userId: string } | { email: string };

/**
 * One-time codes, by their hashes; each method is one transaction. A user has at most one code per
 * purpose: issuing replaces it.
 */
export interface OneTimeCodeStore {
  /** Stores the code for the user; false when there is no such user (nothing stored). */
  issue(
    owner: CodeOwner,
    purpose: CodePurpose,
    code: { codeHash: Uint8Array; expireTime: Date },
    now: Date,
  ): Promise<boolean>;
  /**
   * Locks the owner and its code, judges the presented code (domain `judgeCode`) and applies the
   * verdict: on MATCH the code goes and `decide(user)` is saved with its events; a wrong code counts
   * an attempt or is burnt; an expired one goes. Without such a user the verdict is ABSENT.
   */
  redeem(
    owner: CodeOwner,
    purpose: CodePurpose,
    matches: (codeHash: Uint8Array) => boolean,
    now: Date,
    decide: (user: User) => Change,
    traceparent?: string,
  ): Promise<{ verdict: CodeVerdict; user?: User }>;
}

/** Makes one-time codes: high-entropy strings shown once, kept only as hashes. */
export interface OneTimeCodes {
  issue(): { code: string; codeHash: Uint8Array };
  /** Compares a presented code with a stored hash in constant time. */
  matcher(code: string): (codeHash: Uint8Array) => boolean;
}

/** The position after which a page starts: the last (create_time, id) of the previous page. */
export interface UserCursor {
  createTime: Date;
  id: string;
}

export interface UserListFilter {
  /** Normalized; empty for all. */
  emailPrefix: string;
  status?: UserStatus;
  /** Empty or absent for all. */
  externalId?: string;
  /** Every pair must be present; empty or absent for all. */
  metadata?: Readonly<Record<string, string>>;
}

/** Read side of users, for queries. */
export interface UserDirectory {
  find(id: string): Promise<UserView | undefined>;
  /** Users ordered by (create_time, id), after `after` when given, at most `limit`. */
  list(filter: UserListFilter, after: UserCursor | undefined, limit: number): Promise<UserView[]>;
}

export interface LoginFailureStore {
  get(email: string): Promise<LoginFailures | undefined>;
  /**
   * `takeFailureSlot` as one atomic step per email: of any number of concurrent attempts, at most
   * `policy.maxFailures` are given a slot in a window.
   */
  takeSlot(email: string, now: Date, policy: LockoutPolicy): Promise<FailureSlot>;
  /** Forgets the email's failures (a success). */
  clear(email: string): Promise<void>;
}

/**
 * A sign-in's first step as one: the email's failure slot (as {@link LoginFailureStore.takeSlot})
 * and the account the email names, read together. On Postgres that is one statement, a round trip
 * less per sign-in than a lookup followed by the slot; CredentialGuard's `composedSignInLookup` makes it
 * of the two stores where they cannot be joined.
 */
export interface SignInLookup {
  takeSlotAndFind(
    email: string,
    now: Date,
    policy: LockoutPolicy,
  ): Promise<{ slot: FailureSlot; user: User | undefined }>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password. Without a hash it costs the same time and returns false. */
  verify(password: string, hash: string | undefined): Promise<boolean>;
  /**
   * True for a stored hash that should be replaced after its next successful check: an imported
   * format (bcrypt, scrypt, argon2i) or argon2id with other parameters.
   */
  needsRehash(hash: string): boolean;
}

/** The password hash formats ImportUsers accepts (PHC / modular crypt strings). */
export interface ImportedHashFormats {
  /** Why the hash cannot be imported (unknown format, parameters out of range); undefined if it can. */
  problem(hash: string): string | undefined;
}

/**
 * Admits password hashing work: a bounded number at once and a bounded queue; past the queue
 * `run` refuses (RESOURCE_EXHAUSTED with a retry delay) before `work` starts.
 */
export interface HashingLimiter {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** Whether a password appears in a known breach corpus. Fails open: unreachable means "no". */
export interface BreachedPasswordChecker {
  isBreached(password: string): Promise<boolean>;
}

/** Counts attempts refused because their email is locked, for operators (warden_lockouts_total). */
export interface LockoutCounter {
  refused(): void;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/**
 * Users' TOTP factors. `update` is one transaction: it locks the user (NOT_FOUND when there is
 * none) and their factor, applies `decide`, and saves its factor (undefined deletes it), the user's
 * `mfa_enabled` when given, and the events. A throw from `decide` saves nothing.
 */
export interface TotpFactorRepository {
  update<T>(
    userId: string,
    decide: (holder: MfaHolder, factor: TotpFactor | undefined) => TotpChange<T>,
    traceparent?: string,
  ): Promise<T>;
}

/**
 * Encrypts secrets kept at rest (TOTP secrets) under a server key that is not in the database;
 * `ownerId` is bound in, so a sealed value moved to another owner does not open.
 */
export interface SecretSealer {
  seal(plaintext: string, ownerId: string): string;
  /** Throws when the key is not held or the sealed value was altered. */
  open(sealed: string, ownerId: string): string;
}

/** TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps), behind a kept library. */
export interface TotpAlgorithm {
  /** A new random secret, base32. */
  newSecret(): string;
  /** The `otpauth://totp/...` URI an authenticator app reads (a QR code of it). */
  uri(secret: string, account: string): string;
  /** The time step `code` is valid for at `now`, allowing one step of clock drift; else undefined. */
  match(secret: string, code: string, now: Date): number | undefined;
}

/** Recovery codes: random, shown once, kept only as hashes. */
export interface RecoveryCodes {
  issue(count: number): { codes: string[]; hashes: string[] };
  /** The hash a presented code is stored under (its normalized form). */
  hashOf(code: string): string;
}
