import type { HttpRoute } from '@warden/grpc';
import type { AccessTokenIssuer } from '../../application/access-tokens.js';

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * GET /.well-known/jwks.json: the keys verifying access tokens. Caches may keep it for one key
 * refresh interval; a verifier seeing an unknown `kid` refetches anyway (a new key is published
 * before it signs anything on another replica only within that interval).
 */
export function jwksRoute(issuer: AccessTokenIssuer, keyRefreshMs: number): HttpRoute {
  const maxAge = Math.max(1, Math.floor(keyRefreshMs / 1000));
  return () => ({
    body: JSON.stringify({ keys: issuer.publicKeys() }),
    headers: {
      'content-type': 'application/jwk-set+json',
      'cache-control': `public, max-age=${maxAge}`,
    },
  });
}
