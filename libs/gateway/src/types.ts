/** What `authenticate` resolves to: who is calling and how they proved it. */
export interface Principal {
  userId: string;
  sessionId: string;
  /** Authenticator assurance level: `aal2` after a second factor. */
  aal: 'aal1' | 'aal2';
  /** `access_token`: a JWT verified locally; `session_token`: a `wst_` token checked by ValidateSession. */
  via: 'access_token' | 'session_token';
  /** When the credential stops being accepted (the JWT's `exp`; the session's idle expiry). */
  expiresAt: Date;
}

export type RevocationKind =
  | 'SESSION_ENDED'
  | 'SESSION_EXPIRED'
  | 'USER_DISABLED'
  | 'USER_DELETED'
  | 'PASSWORD_CHANGED'
  | 'ROLES_CHANGED';

/** One item of session-service's WatchRevocations feed. */
export interface RevocationItem {
  cursor: string;
  kind: RevocationKind;
  sessionId: string;
  userId: string;
  time: Date;
}

/** An Ed25519 public key as a JSON Web Key. */
export interface Jwk {
  kid: string;
  kty: string;
  crv: string;
  x: string;
  alg: string;
  use: string;
}

/** The session-service calls the gateway makes; `grpcSessionApi` implements them over gRPC. */
export interface SessionApi {
  getJwks(): Promise<Jwk[]>;
  /** Resolves an opaque `wst_` token; rejects with a GatewayError when it is not valid. */
  validateSession(token: string): Promise<Omit<Principal, 'via'>>;
  /**
   * The feed after `after` ('' for from now); ends or throws when the stream does. `opened` is
   * called once session-service says the feed is open (before any item: the feed may be quiet),
   * with the cursor of where the stream starts.
   */
  watchRevocations(
    after: string,
    signal: AbortSignal,
    opened?: (start: string | undefined) => void,
  ): AsyncIterable<RevocationItem>;
  close(): void;
}
