import type { PublicJwk } from './access-tokens.js';

/**
 * A signing key as stored. `createTime` is when it starts signing: a key made by a rotation is
 * published one refresh interval before that, so every replica and every cached JWKS knows it
 * before any token carries it. `retireTime` (set by the next rotation) is when it stops signing.
 */
export interface SigningKeyRecord {
  kid: string;
  createTime: Date;
  retireTime: Date | null;
}

export interface SigningKeyPolicy {
  /** Access token lifetime: a retired key verifies tokens for this long after it stopped signing. */
  ttlMs: number;
  /** A key signs for this long, then the next one takes over. */
  rotationMs: number;
  /** How stale a replica's view of the keys may be (how often each re-reads them). */
  refreshMs: number;
}

const newestFirst = <K extends SigningKeyRecord>(keys: readonly K[]): K[] =>
  [...keys].sort((a, b) => b.createTime.getTime() - a.createTime.getTime());

/** The key that signs at `now`: the newest one whose signing has begun. */
export const signingKey = <K extends SigningKeyRecord>(
  keys: readonly K[],
  now: Date,
): K | undefined => newestFirst(keys).find((k) => k.createTime.getTime() <= now.getTime());

/** The newest key, signing or about to: the one a rotation replaces. */
export const newestKey = <K extends SigningKeyRecord>(keys: readonly K[]): K | undefined =>
  newestFirst(keys)[0];

/**
 * When the next key must be made: never while one is waiting to take over; else when there is no
 * key, or the signing one is `rotationMs` old less the refresh interval its successor waits.
 */
export function needsRotation(
  keys: readonly SigningKeyRecord[],
  now: Date,
  policy: SigningKeyPolicy,
): boolean {
  const newest = newestKey(keys);
  if (!newest) return true;
  const age = now.getTime() - newest.createTime.getTime();
  return age >= 0 && age >= policy.rotationMs - policy.refreshMs;
}

/** When a key made now starts signing: at once for the first key, else after one refresh. */
export const activationTime = (
  keys: readonly SigningKeyRecord[],
  now: Date,
  policy: SigningKeyPolicy,
): Date => new Date(now.getTime() + (keys.length === 0 ? 0 : policy.refreshMs));

/** Until when a retired key stays published: a replica may sign with it for one more refresh, and that token lives `ttlMs`. */
export const publishedUntil = (retireTime: Date, policy: SigningKeyPolicy): number =>
  retireTime.getTime() + policy.refreshMs + policy.ttlMs;

/** The keys that verify tokens: the signing key first, the next one, then retired ones whose tokens may live. */
export function publishedKeys<K extends SigningKeyRecord>(
  keys: readonly K[],
  now: Date,
  policy: SigningKeyPolicy,
): K[] {
  const current = signingKey(keys, now);
  const others = newestFirst(keys).filter(
    (k) =>
      k !== current &&
      (k.retireTime === null || publishedUntil(k.retireTime, policy) > now.getTime()),
  );
  return current ? [current, ...others] : others;
}

/** Keys retired before this verify nothing any more: their rows can go. */
export const lapsedBefore = (now: Date, policy: SigningKeyPolicy): Date =>
  new Date(now.getTime() - policy.refreshMs - policy.ttlMs);

/** A signing key row: its public JWK and its private key sealed under the server secret. */
export interface StoredSigningKey extends SigningKeyRecord {
  publicJwk: PublicJwk;
  sealedPrivateKey: Uint8Array;
}

/** Where every replica finds the signing keys. */
export interface SigningKeyStore {
  list(): Promise<StoredSigningKey[]>;
  /**
   * Adds `fresh` and retires the newest key at `fresh.createTime`, unless the newest key is no
   * longer `replacing` (another replica rotated first): then nothing changes and false comes back.
   */
  rotate(fresh: StoredSigningKey, replacing: string | undefined): Promise<boolean>;
  purgeRetiredBefore(before: Date): Promise<number>;
}
