import {
  type Access,
  type CallContext,
  type Idempotency,
  type IdempotencySpec,
  type UseCase,
  idempotencyRecordAddress,
  requireDeps,
} from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  hashChallengeId,
  isChallengeId,
  MFA_CHALLENGE_MAX_ATTEMPTS,
} from '../../domain/mfa-challenge.js';
import { mfaChallengeNotFound } from '../../errors.js';
import {
  decodeSessionWithToken,
  encodeSessionWithToken,
  type SessionWithToken,
} from '../codecs.js';
import type {
  Clock,
  IdGenerator,
  MfaChallengeStore,
  PresentedSecondFactor,
  SecondFactorVerifier,
  SessionRepository,
} from '../ports.js';
import type { SessionCache } from '../session-cache.js';
import type { SessionSettings } from '../settings.js';
import { recoverStartedSession, stillGranted } from '../sign-in-replay.js';
import { createSession } from './start-session.js';

export interface CompleteMfa {
  challengeId: string;
  factor: PresentedSecondFactor | undefined;
  /** Idempotency key; empty for none. */
  requestId: string;
}

const MAX_REQUEST_ID_LENGTH = 128;
const challengePrincipal = (challengeId: string) => `mfa-challenge:${hashChallengeId(challengeId)}`;
const MAX_CODE_LENGTH = 64;

/**
 * request_id replays of CompleteMfa, kept per challenge: only whoever holds the challenge id (a
 * 256-bit secret handed out by StartSession) and the request id gets the stored session and token,
 * even after the challenge was consumed. The fingerprint holds no code.
 */
export const COMPLETE_MFA_REPLAY: IdempotencySpec<CompleteMfa, SessionWithToken> = {
  key: (cmd) => cmd.requestId || undefined,
  principal: (cmd) => challengePrincipal(cmd.challengeId),
  fingerprint: (cmd) => JSON.stringify([hashChallengeId(cmd.challengeId), cmd.factor?.kind ?? '']),
  encode: encodeSessionWithToken,
  decode: decodeSessionWithToken,
  owner: (_cmd, completed) => completed.session.userId,
};

/**
 * The second step of a sign-in: the challenge from StartSession and a TOTP or recovery code,
 * checked (and spent) by user-service. Every attempt counts against the challenge (5 in all) and,
 * in user-service, against the user's lockout; the first right one consumes the challenge and
 * creates a session with factors [PASSWORD, <factor>] at AAL2. A replayed request_id answers the
 * stored session only while it is active with that token; one whose first attempt died after its
 * commit finds the session that attempt started (the challenge is spent by then).
 */
export class CompleteMfaHandler implements UseCase<CompleteMfa, SessionWithToken> {
  readonly name = 'CompleteMfa';
  readonly access: Access<CompleteMfa> = { kind: 'service' };

  constructor(
    private readonly deps: {
      sessions: SessionRepository;
      challenges: MfaChallengeStore;
      secondFactors: SecondFactorVerifier;
      clock: Clock;
      ids: IdGenerator;
      cache: SessionCache;
      settings: SessionSettings;
      idempotency: Idempotency;
    },
  ) {
    requireDeps('CompleteMfaHandler', deps);
  }

  async execute(cmd: CompleteMfa, ctx: CallContext): Promise<SessionWithToken> {
    const factor = validate(cmd);
    const startRequest = cmd.requestId
      ? idempotencyRecordAddress(
          ctx.service.name,
          this.name,
          challengePrincipal(cmd.challengeId),
          cmd.requestId,
        )
      : undefined;
    let ranHere = false;
    const answer = await this.deps.idempotency.run(
      this.name,
      {
        ...COMPLETE_MFA_REPLAY,
        recover: async () =>
          startRequest ? recoverStartedSession(this.deps, startRequest, ctx) : undefined,
      },
      cmd,
      ctx,
      () => {
        ranHere = true;
        return this.complete(hashChallengeId(cmd.challengeId), factor, startRequest, ctx);
      },
    );
    return ranHere ? answer : stillGranted(this.deps, answer);
  }

  private async complete(
    idHash: string,
    factor: PresentedSecondFactor,
    startRequest: string | undefined,
    ctx: CallContext,
  ): Promise<SessionWithToken> {
    const { challenges, secondFactors, clock } = this.deps;
    const challenge = await challenges.attempt(idHash, clock.now(), MFA_CHALLENGE_MAX_ATTEMPTS);
    if (!challenge) throw mfaChallengeNotFound();
    await secondFactors.verify(challenge.userId, factor, ctx);
    // The challenge is consumed in the transaction that saves the session: a process dying
    // before it commits leaves the challenge (with its attempts left) for a retry, never a spent
    // challenge without a session. Two right codes racing on it: only one commit consumes it.
    return createSession(
      this.deps,
      {
        userId: challenge.userId,
        client: challenge.client,
        secondFactor: factor.kind,
        consumeChallenge: idHash,
        ...(startRequest ? { startRequest } : {}),
      },
      ctx,
    );
  }
}

function validate(cmd: CompleteMfa): PresentedSecondFactor {
  const violations = new Violations();
  if (cmd.challengeId === '') violations.add('challenge_id', 'is required');
  else if (!isChallengeId(cmd.challengeId))
    violations.add('challenge_id', 'must be the mfa_challenge.id StartSession returned');
  const code = cmd.factor?.code.replace(/\s+/g, '') ?? '';
  if (!cmd.factor) violations.add('second_factor', 'totp_code or recovery_code is required');
  else if (code === '')
    violations.add(cmd.factor.kind === 'TOTP' ? 'totp_code' : 'recovery_code', 'is required');
  else if (cmd.factor.kind === 'TOTP' && !/^\d{6}$/.test(code))
    violations.add('totp_code', 'must be the 6 digits the authenticator app shows');
  else if (code.length > MAX_CODE_LENGTH)
    violations.add('recovery_code', `must be at most ${MAX_CODE_LENGTH} characters`);
  if (cmd.requestId.length > MAX_REQUEST_ID_LENGTH)
    violations.add('request_id', `must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
  violations.throwIfAny();
  return { kind: cmd.factor!.kind, code };
}
