import type { Access, CallContext, UseCase } from '@warden/bus';
import { isActiveAt, type Session } from '../domain/session.js';
import type { Clock, SessionRepository } from './ports.js';

/** An Ed25519 public key as a JSON Web Key (RFC 8037), as GetJwks and /.well-known/jwks.json give it. */
export interface PublicJwk {
  kid: string;
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** A signed access token (JWT) and its `exp`. */
export interface AccessToken {
  token: string;
  expireTime: Date;
}

/** Signs access tokens for sessions and publishes the keys that verify them. */
export interface AccessTokenIssuer {
  issue(session: Session): Promise<AccessToken>;
  /** The current key first, then retired keys whose tokens may not have lapsed yet. */
  publicKeys(): readonly PublicJwk[];
}

export type WithAccessToken<O> = O & { accessToken?: AccessToken };

/**
 * A session-returning use case that also hands out an access token for the session it returns
 * (none when it returns no session: StartSession's MFA challenge). The token is signed after the
 * inner use case, outside its idempotency record: a replayed request gets the stored session and
 * token, and a fresh access token only while that session is still active. (A request_id replay
 * of a sign-in whose session has since ended - logged out everywhere, say - used to mint a fresh
 * token for it, which a gateway honours once it has forgotten the end.)
 */
export function withAccessToken<I, O extends object>(
  inner: UseCase<I, O>,
  issuer: AccessTokenIssuer | undefined,
  current: { sessions: Pick<SessionRepository, 'findById'>; clock: Clock },
): UseCase<I, WithAccessToken<O>> {
  if (!issuer) return inner;
  return {
    name: inner.name,
    access: inner.access as Access<I>,
    async execute(input: I, ctx: CallContext): Promise<WithAccessToken<O>> {
      const output = await inner.execute(input, ctx);
      if (!('session' in output)) return output;
      const session = await current.sessions.findById((output.session as Session).id);
      if (!session || !isActiveAt(session, current.clock.now())) return output;
      return { ...output, accessToken: await issuer.issue(session) };
    },
  };
}
