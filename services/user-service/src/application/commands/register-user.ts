import {
  type Access,
  type CallContext,
  type IdempotencySpec,
  type UseCase,
  requireDeps,
} from '@warden/bus';
import { isAppError, Violations } from '@warden/errors';
import { displayNameProblem, normalizeDisplayName } from '../../domain/display-name.js';
import { emailProblem, normalizeEmail } from '../../domain/email.js';
import { isImplausiblePassword, passwordProblem } from '../../domain/password-policy.js';
import { registerUser, toView, type UserView } from '../../domain/user.js';
import { emailTaken, passwordBreached } from '../../errors.js';
import type { CredentialGuard } from '../credential-guard.js';
import type {
  BreachedPasswordChecker,
  Clock,
  IdGenerator,
  PasswordHasher,
  UserRepository,
} from '../ports.js';
import { decodeUserView, encodeUserView } from '../codecs.js';
import { requestKey } from '../request-key.js';

export interface RegisterUser {
  email: string;
  password: string;
  displayName: string;
  /** Idempotency key; empty for none. */
  requestId: string;
}

export class RegisterUserHandler implements UseCase<RegisterUser, UserView> {
  readonly name = 'RegisterUser';
  readonly access: Access<RegisterUser> = { kind: 'service' };
  // A request_id belongs to the email it registers; the password is proven, never fingerprinted.
  readonly idempotency: IdempotencySpec<RegisterUser, UserView> = {
    key: (cmd) => requestKey(cmd.requestId),
    principal: (cmd) => `email:${normalizeEmail(cmd.email)}`,
    fingerprint: (cmd) =>
      JSON.stringify([normalizeEmail(cmd.email), normalizeDisplayName(cmd.displayName)]),
    prove: (cmd) => this.proveReplay(cmd),
    recover: (cmd) => this.recoverCommitted(cmd),
    encode: encodeUserView,
    decode: decodeUserView,
    owner: (_cmd, user) => user.id, // the response holds the email: DeleteUser deletes the record
  };

  constructor(
    private readonly deps: {
      users: UserRepository;
      hasher: PasswordHasher;
      breaches: BreachedPasswordChecker;
      clock: Clock;
      ids: IdGenerator;
      guard: CredentialGuard;
    },
  ) {
    requireDeps('RegisterUserHandler', deps);
  }

  /**
   * A replay returns the registered user only to whoever knows its password, checked like a
   * sign-in (lockout slot, then argon2): the record is no faster a password test than StartSession.
   */
  private async proveReplay(cmd: RegisterUser): Promise<boolean> {
    if (isImplausiblePassword(cmd.password)) return false;
    const email = normalizeEmail(cmd.email);
    const user = await this.deps.users.findByEmail(email);
    try {
      await this.deps.guard.check(email, cmd.password, user?.passwordHash);
      return true;
    } catch (error) {
      if (isAppError(error) && error.reason === 'INVALID_CREDENTIALS') return false;
      throw error;
    }
  }

  /**
   * A claimant killed after its registration committed, before its response was stored: the
   * retry answers that user (same email and display name, its password proven like a sign-in)
   * instead of EMAIL_TAKEN for a user nobody was told about.
   */
  private async recoverCommitted(cmd: RegisterUser): Promise<UserView | undefined> {
    const user = await this.deps.users.findByEmail(normalizeEmail(cmd.email));
    if (!user || user.displayName !== normalizeDisplayName(cmd.displayName)) return undefined;
    return (await this.proveReplay(cmd)) ? toView(user) : undefined;
  }

  async execute(cmd: RegisterUser, ctx: CallContext): Promise<UserView> {
    const { users, hasher, breaches, clock, ids } = this.deps;
    const email = normalizeEmail(cmd.email);
    const displayName = normalizeDisplayName(cmd.displayName);
    validate(email, cmd.password, displayName);
    // A cheap early answer; the unique index still decides when two registrations race.
    if (await users.findByEmail(email)) throw emailTaken();
    if (await breaches.isBreached(cmd.password)) throw passwordBreached('password');
    const passwordHash = await hasher.hash(cmd.password);
    const change = registerUser({
      id: ids.newId(),
      email,
      displayName,
      passwordHash,
      now: clock.now(),
    });
    await users.add(change, ctx.traceparent);
    return toView(change.user);
  }
}

function validate(email: string, password: string, displayName: string): void {
  const violations = new Violations();
  const problems = {
    email: emailProblem(email),
    password: passwordProblem(password),
    display_name: displayNameProblem(displayName),
  };
  for (const [field, problem] of Object.entries(problems))
    if (problem) violations.add(field, problem);
  const onlyPassword = problems.password !== undefined && !problems.email && !problems.display_name;
  violations.throwIfAny(onlyPassword ? 'WEAK_PASSWORD' : 'INVALID_ARGUMENT');
}
