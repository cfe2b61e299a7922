import type { Access, CallContext, IdempotencySpec, UseCase } from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
import { displayNameProblem, normalizeDisplayName } from '../../domain/display-name.js';
import { emailProblem, normalizeEmail } from '../../domain/email.js';
import { passwordProblem } from '../../domain/password-policy.js';
import { registerUser, toView, type UserView } from '../../domain/user.js';
import { emailTaken, passwordBreached } from '../../domain/user-errors.js';
import type {
  BreachedPasswordChecker,
  Clock,
  IdGenerator,
  PasswordHasher,
  UserRepository,
} from '../ports.js';
import { requireDeps } from '../require-deps.js';
import { decodeUserView, encodeUserView } from '../user-view-codec.js';

export interface RegisterUser {
  email: string;
  password: string;
  displayName: string;
  /** Idempotency key; empty for none. */
  requestId: string;
}

const MAX_REQUEST_ID_LENGTH = 128;

export class RegisterUserHandler implements UseCase<RegisterUser, UserView> {
  readonly name = 'RegisterUser';
  readonly access: Access<RegisterUser> = { kind: 'service' };
  readonly idempotency: IdempotencySpec<RegisterUser, UserView> = {
    key: (cmd) => requestKey(cmd.requestId),
    fingerprint: (cmd) =>
      JSON.stringify([
        normalizeEmail(cmd.email),
        cmd.password,
        normalizeDisplayName(cmd.displayName),
      ]),
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
    },
  ) {
    requireDeps('RegisterUserHandler', deps);
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

function requestKey(requestId: string): string | undefined {
  if (requestId === '') return undefined;
  if (requestId.length > MAX_REQUEST_ID_LENGTH) {
    throw invalidArgument([
      { field: 'request_id', description: `must be at most ${MAX_REQUEST_ID_LENGTH} characters` },
    ]);
  }
  return requestId;
}
