import { authenticatedWith, type Session } from '../domain/session.js';

/** StartSession's response as bytes for the idempotency store (which seals them). */
export interface SessionWithToken {
  session: Session;
  token: string;
}

const DATE_FIELDS = [
  'createTime',
  'expireTime',
  'idleExpireTime',
  'lastSeenTime',
  'endTime',
] as const;

export function encodeSessionWithToken(value: SessionWithToken): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function decodeSessionWithToken(bytes: Uint8Array): SessionWithToken {
  const raw = JSON.parse(new TextDecoder().decode(bytes)) as {
    session: Record<string, unknown>;
    token: string;
  };
  const session = { ...raw.session };
  for (const field of DATE_FIELDS) {
    const value = session[field];
    session[field] = typeof value === 'string' ? new Date(value) : null;
  }
  // Records written before step-up hold password-only sessions without these fields.
  if (!Array.isArray(session.factors)) Object.assign(session, authenticatedWith(null));
  return { session: session as unknown as Session, token: raw.token };
}

/** StartSession for a user with MFA on: no session yet, a challenge for CompleteMfa. */
export interface ChallengeIssued {
  challenge: { id: string; expireTime: Date };
}

/** What StartSession answers: a session and its token, or an MFA challenge. */
export type SignInResult = SessionWithToken | ChallengeIssued;

export const isChallenge = (result: SignInResult): result is ChallengeIssued =>
  'challenge' in result;

export function encodeSignInResult(value: SignInResult): Uint8Array {
  return isChallenge(value)
    ? new TextEncoder().encode(JSON.stringify(value))
    : encodeSessionWithToken(value);
}

export function decodeSignInResult(bytes: Uint8Array): SignInResult {
  const raw = JSON.parse(new TextDecoder().decode(bytes)) as {
    challenge?: { id: string; expireTime: string };
  };
  if (raw.challenge)
    return { challenge: { id: raw.challenge.id, expireTime: new Date(raw.challenge.expireTime) } };
  return decodeSessionWithToken(bytes);
}
