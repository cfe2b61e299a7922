import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { GatewayError } from '../src/errors.js';
import type { Jwk, Principal, RevocationItem, SessionApi } from '../src/types.js';

/** A signing key like session-service's: Ed25519, published as a JWK. */
export function aSigningKey(kid: string): { kid: string; privateKey: KeyObject; jwk: Jwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { x } = publicKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey,
    jwk: { kid, kty: 'OKP', crv: 'Ed25519', x: x!, alg: 'EdDSA', use: 'sig' },
  };
}

export interface TokenClaims {
  sub?: string;
  sid?: string;
  iatMs?: number;
  ttlS?: number;
  iss?: string;
  aal?: string;
}

export async function anAccessToken(
  key: { kid: string; privateKey: KeyObject },
  claims: TokenClaims = {},
): Promise<string> {
  const iat = Math.floor((claims.iatMs ?? Date.now()) / 1000);
  return new SignJWT({ sid: claims.sid ?? 'session-1', aal: claims.aal ?? 'aal1' })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
    .setIssuer(claims.iss ?? 'warden-test')
    .setSubject(claims.sub ?? 'user-1')
    .setIssuedAt(iat)
    .setExpirationTime(iat + (claims.ttlS ?? 300))
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

/** session-service in memory: keys, sessions, and a feed the test pushes items (or failures) into. */
export class FakeSessionApi implements SessionApi {
  keys: Jwk[] = [];
  jwksCalls = 0;
  readonly sessions = new Map<string, Omit<Principal, 'via'>>();
  /** The `after` of every WatchRevocations call, in order. */
  readonly watches: string[] = [];
  private readonly log: RevocationItem[] = [];
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  /** While set, every WatchRevocations call fails at once with this. */
  down: Error | undefined;

  async getJwks(): Promise<Jwk[]> {
    this.jwksCalls++;
    return this.keys;
  }

  async validateSession(token: string): Promise<Omit<Principal, 'via'>> {
    const session = this.sessions.get(token);
    if (!session) throw new GatewayError('SESSION_INVALID', 'no session has this token');
    return session;
  }

  /** Appends a revocation to the feed; its cursor is its position. */
  push(item: Omit<RevocationItem, 'cursor'>): RevocationItem {
    const positioned = { ...item, cursor: String(this.log.length + 1) };
    this.log.push(positioned);
    this.wake?.();
    return positioned;
  }

  /** Ends the open stream with `error` (a gRPC-like error with a `code`). */
  fail(error: Error): void {
    this.failure = error;
    this.wake?.();
  }

  async *watchRevocations(
    after: string,
    signal: AbortSignal,
    opened?: (start: string | undefined) => void,
  ): AsyncIterable<RevocationItem> {
    this.watches.push(after);
    if (this.down) throw this.down;
    let next = after === '' ? this.log.length : Number(after);
    opened?.(String(next));
    for (;;) {
      if (signal.aborted) return;
      if (this.failure) {
        const error = this.failure;
        this.failure = undefined;
        throw error;
      }
      if (next < this.log.length) {
        yield this.log[next++]!;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  close(): void {}
}
