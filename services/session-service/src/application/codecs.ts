import type { Session } from '../domain/session.js';

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
  return { session: session as unknown as Session, token: raw.token };
}
