import { isIP } from 'node:net';
import {
  type Access,
  type AnswerSlot,
  type CallContext,
  type Idempotency,
  type IdempotencySpec,
  type UseCase,
  idempotencyRecordAddress,
  requireDeps,
} from '@warden/bus';
import { Violations } from '@warden/errors';
import { accountDisabled, replayOutdated } from '../../errors.js';
import { issueToken } from '../../domain/session-token.js';
import { newSession, type ClientInfo, type SecondFactor } from '../../domain/session.js';
import { makeRoomForOneMore } from '../../domain/user-sessions.js';
import { newChallenge } from '../../domain/mfa-challenge.js';
import type {
  Clock,
  CredentialsVerifier,
  IdGenerator,
  MfaChallengeStore,
  SessionRepository,
} from '../ports.js';
import {
  decodeSignInResult,
  encodeSignInResult,
  isChallenge,
  type ChallengeIssued,
  type SessionWithToken,
  type SignInResult,
} from '../codecs.js';
import type { SessionCache } from '../session-cache.js';
import type { SessionSettings } from '../settings.js';
import { recoverStartedSession, stillGranted } from '../sign-in-replay.js';

export interface StartSession {
  email: string;
  password: string;
  client: ClientInfo | undefined;
  /** Idempotency key; empty for none. */
  requestId: string;
}

const MAX_EMAIL_LENGTH = 320;
const MAX_PASSWORD_LENGTH = 1024;
const MAX_REQUEST_ID_LENGTH = 128;
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * request_id replays of StartSession. Not the bus's (which would look the record up before the
 * password is checked): the handler verifies the credentials first, then looks the record up
 * under the verified user, so a replay is no cheaper a password test than a sign-in and hands a
 * stored token only to whoever proved the password. The fingerprint holds no password.
 */
export const START_SESSION_REPLAY: IdempotencySpec<StartSession, SignInResult> = {
  key: (cmd) => cmd.requestId || undefined,
  fingerprint: (cmd) => JSON.stringify([normalizeEmail(cmd.email), clientOf(cmd)]),
  encode: encodeSignInResult,
  decode: decodeSignInResult,
  // The response holds the client's IP and user agent: the user's deletion deletes the record.
  // A challenge holds neither (its record lapses with the idempotency TTL).
  owner: (_cmd, started) => ('session' in started ? started.session.userId : undefined),
};

/**
 * Signs in with email and password. For a user with a second factor on, the password alone makes
 * no session: the answer is an MFA challenge (5 minutes, 5 attempts) for CompleteMfa. A replayed
 * request_id answers only what the user's current state would grant (see `replayed`); one whose
 * first attempt died after its commit finds the session that attempt started (`recover`).
 */
export class StartSessionHandler implements UseCase<StartSession, SignInResult> {
  readonly name = 'StartSession';
  readonly access: Access<StartSession> = { kind: 'service' };

  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      credentials: CredentialsVerifier;
      clock: Clock;
      ids: IdGenerator;
      cache: SessionCache;
      settings: SessionSettings;
      idempotency: Idempotency;
      challenges: MfaChallengeStore;
    },
  ) {
    requireDeps('StartSessionHandler', deps);
  }

  async execute(cmd: StartSession, ctx: CallContext): Promise<SignInResult> {
    validate(cmd);
    const user = await this.deps.credentials.verify(normalizeEmail(cmd.email), cmd.password, ctx);
    if (user.status !== 'ACTIVE') throw accountDisabled();
    const principal = `user:${user.userId}`;
    // The record's address also names the session this request starts (its recovery key).
    const startRequest = cmd.requestId
      ? idempotencyRecordAddress(ctx.service.name, this.name, principal, cmd.requestId)
      : undefined;
    const run = (answer?: AnswerSlot<SignInResult>) =>
      user.mfaEnabled
        ? this.challenge(cmd, user.userId)
        : this.start(cmd, user.userId, startRequest, ctx, answer);
    // Without a request_id there is no record to look up or store.
    if (!startRequest) return run();
    let ranHere = false;
    const answer = await this.deps.idempotency.run(
      this.name,
      {
        ...START_SESSION_REPLAY,
        // A challenge committed by a dead attempt is harmless: a new one is issued instead.
        recover: async () =>
          user.mfaEnabled ? undefined : recoverStartedSession(this.deps, startRequest, ctx),
      },
      cmd,
      ctx,
      (slot) => {
        ranHere = true;
        return run(slot);
      },
      { principal },
    );
    return ranHere ? answer : this.replayed(answer, user.mfaEnabled);
  }

  /**
   * A stored (or recovered) answer, as far as the current state still grants it: a session only
   * while the user has no second factor (an AAL1 token made before MFA was turned on is not handed
   * out again) and the session is still active with that token; a challenge only while MFA is on.
   */
  private async replayed(answer: SignInResult, mfaEnabled: boolean): Promise<SignInResult> {
    if (isChallenge(answer)) {
      if (!mfaEnabled) throw replayOutdated();
      return answer;
    }
    if (mfaEnabled) throw replayOutdated();
    return stillGranted(this.deps, answer);
  }

  private async challenge(cmd: StartSession, userId: string): Promise<ChallengeIssued> {
    const { id, challenge } = newChallenge({
      userId,
      client: clientOf(cmd),
      now: this.deps.clock.now(),
    });
    await this.deps.challenges.add(challenge);
    return { challenge: { id, expireTime: challenge.expireTime } };
  }

  /** With `answer` (a request_id's), the answer is stored in the transaction saving the session. */
  private start(
    cmd: StartSession,
    userId: string,
    startRequest: string | undefined,
    ctx: CallContext,
    answer: AnswerSlot<SignInResult> | undefined,
  ): Promise<SessionWithToken> {
    return createSession(
      this.deps,
      {
        userId,
        client: clientOf(cmd),
        ...(startRequest ? { startRequest } : {}),
        ...(answer ? { answer } : {}),
      },
      ctx,
    );
  }
}

/**
 * A new session for a user who proved it (StartSession, or CompleteMfa with `secondFactor`): makes
 * room under the per-user limit, saves it with its `started` event (linked to `startRequest`, the
 * request's idempotency address, for recovery), and caches it.
 */
export async function createSession(
  deps: {
    sessions: SessionRepository;
    clock: Clock;
    ids: IdGenerator;
    cache: SessionCache;
    settings: SessionSettings;
  },
  input: {
    userId: string;
    client: ClientInfo;
    secondFactor?: SecondFactor;
    startRequest?: string;
    /** CompleteMfa: the challenge (id hash) spent in the same transaction as the session. */
    consumeChallenge?: string;
    /** A request_id's answer slot: the answer is stored in the same transaction as the session. */
    answer?: AnswerSlot<SessionWithToken>;
  },
  ctx: CallContext,
): Promise<SessionWithToken> {
  const { sessions, clock, ids, cache, settings } = deps;
  const { userId } = input;
  const { token, hash } = issueToken(settings.tokenBytes);
  const now = clock.now();
  const session = newSession({
    id: ids.newId(),
    userId,
    tokenHash: hash,
    client: input.client,
    now,
    lifetimes: settings,
    ...(input.secondFactor ? { secondFactor: input.secondFactor } : {}),
  });
  const started: SessionWithToken = { session, token };
  const answer = input.answer?.seal(started);
  const changes = await sessions.updateUserSessions(
    userId,
    (active) => [
      ...makeRoomForOneMore(active, now, settings.maxPerUser),
      { session, event: 'started' },
    ],
    {
      traceparent: ctx.traceparent,
      ...(input.startRequest ? { startRequest: input.startRequest } : {}),
      ...(input.consumeChallenge ? { consumeChallenge: input.consumeChallenge } : {}),
      ...(answer ? { answer } : {}),
    },
  );
  for (const change of changes ?? [])
    if (change.session.id !== session.id) cache.dropSession(change.session.id);
  cache.put(session, now.getTime());
  return started;
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

function clientOf(cmd: StartSession): ClientInfo {
  return {
    ipAddress: cmd.client?.ipAddress.trim() ?? '',
    userAgent: (cmd.client?.userAgent ?? '').slice(0, MAX_USER_AGENT_LENGTH),
  };
}

function validate(cmd: StartSession): void {
  const violations = new Violations();
  const email = normalizeEmail(cmd.email);
  if (email === '') violations.add('email', 'is required');
  else if (email.length > MAX_EMAIL_LENGTH)
    violations.add('email', `must be at most ${MAX_EMAIL_LENGTH} characters`);
  if (cmd.password === '') violations.add('password', 'is required');
  else if (cmd.password.length > MAX_PASSWORD_LENGTH)
    violations.add('password', `must be at most ${MAX_PASSWORD_LENGTH} characters`);
  const ip = cmd.client?.ipAddress.trim() ?? '';
  if (ip !== '' && isIP(ip) === 0)
    violations.add('client.ip_address', 'must be an IPv4 or IPv6 address');
  if (cmd.requestId.length > MAX_REQUEST_ID_LENGTH)
    violations.add('request_id', `must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
  violations.throwIfAny();
}
