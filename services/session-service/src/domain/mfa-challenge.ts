import { createHash, randomBytes } from 'node:crypto';
import type { ClientInfo } from './session.js';

/** A challenge lives this long after the password was right. */
export const MFA_CHALLENGE_TTL_MS = 5 * 60_000;
/** Codes a challenge takes (right or wrong) before it is spent. */
export const MFA_CHALLENGE_MAX_ATTEMPTS = 5;
const ID_PREFIX = 'wmc_';
const ID_BYTES = 32;
const ID = /^wmc_[A-Za-z0-9_-]{43}$/;

/**
 * The second step of a sign-in for a user with MFA on: StartSession proved the password and hands
 * out an opaque id (`wmc_` + 32 random bytes, base64url); CompleteMfa presents it with a code. Only
 * a SHA-256 of the id is stored, so a database dump cannot complete anyone's sign-in.
 */
export interface MfaChallenge {
  readonly idHash: string;
  readonly userId: string;
  /** The client of the StartSession call: the session CompleteMfa creates carries it. */
  readonly client: ClientInfo;
  /** Attempts counted so far, this one included once `attempt` returned it. */
  readonly attempts: number;
  readonly createTime: Date;
  readonly expireTime: Date;
}

export const hashChallengeId = (id: string): string =>
  createHash('sha256').update(id).digest('hex');

export const isChallengeId = (value: string): boolean => ID.test(value);

export function newChallenge(input: { userId: string; client: ClientInfo; now: Date }): {
  id: string;
  challenge: MfaChallenge;
} {
  const id = `${ID_PREFIX}${randomBytes(ID_BYTES).toString('base64url')}`;
  return {
    id,
    challenge: {
      idHash: hashChallengeId(id),
      userId: input.userId,
      client: input.client,
      attempts: 0,
      createTime: input.now,
      expireTime: new Date(input.now.getTime() + MFA_CHALLENGE_TTL_MS),
    },
  };
}
