import { setTimeout as sleep } from 'node:timers/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { FileCheckpointStore, type Checkpoint, type CheckpointStore } from './checkpoint-store.js';
import { GatewayError } from './errors.js';
import { grpcCodeOf } from './grpc-session-api.js';
import { RevocationState } from './revocation-state.js';
import { VerifiedTokens } from './verified-tokens.js';
import type { Jwk, Principal, RevocationItem, SessionApi } from './types.js';

export interface GatewayOptions {
  /** session-service: ValidateSession for `wst_` tokens, the revocation feed, and GetJwks. */
  session: SessionApi;
  /** The tokens' expected `iss` (session-service's `access_tokens.issuer`). */
  issuer: string;
  /** session-service's `GET /.well-known/jwks.json`; without it the keys come from GetJwks. */
  jwksUrl?: string;
  /** Where the feed's cursor and state are saved (default: a file at `checkpointFile`). */
  checkpoints?: CheckpointStore;
  /** Default `./warden-gateway-checkpoint.json`. */
  checkpointFile?: string;
  /**
   * session-service's `access_tokens.ttl` (ms), default 5 min: how long a revocation matters.
   * Tokens older than this (plus the clock tolerance) are refused, whatever their `exp`.
   */
  tokenLifetimeMs?: number;
  /** Tolerated clock difference with session-service (ms), default 5 s. */
  clockToleranceMs?: number;
  /** Verified tokens remembered so their signature is checked once (default 10000; 0: none). */
  verifiedTokenCacheSize?: number;
  /** Told when something goes wrong in the background (feed, checkpoint). */
  onError?: (error: unknown, context: string) => void;
  /** Told after each checkpoint is saved, with the items it made durable (observability, tests). */
  onCheckpoint?: (items: readonly RevocationItem[]) => void;
  /** The clock (ms); tests move it. */
  now?: () => number;
}

export interface GatewayStatus {
  /** The feed's stream is open. */
  connected: boolean;
  /** Since when (ms) the feed has not been followed; undefined while connected. */
  downSince: number | undefined;
  cursor: string;
  /** Items applied by this process. */
  applied: number;
  /** Sessions and users with a revocation that still matters. */
  tracked: number;
}

export interface Gateway {
  /**
   * The principal of a request's `authorization: Bearer ...` header: an access token (JWT)
   * verified locally against the JWKS and the revocation feed, or an opaque `wst_` session token
   * checked with ValidateSession. Rejects with a GatewayError (its `status`: 401 or 503).
   */
  authenticate(headers: HeadersLike): Promise<Principal>;
  /** Resolves once the checkpoint is loaded and the feed is being followed. */
  ready(): Promise<void>;
  status(): GatewayStatus;
  /** Stops the feed, saves a last checkpoint, closes the client. */
  close(): Promise<void>;
}

export type HeadersLike =
  | Headers
  | Record<string, string | readonly string[] | undefined>
  | { get(name: string): string | null };

/** What a verified access token says. */
interface VerifiedClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  aal: 'aal1' | 'aal2';
}

const BEARER = /^Bearer\s+(\S+)$/i;
const SESSION_TOKEN_PREFIX = 'wst_';

function authorizationOf(headers: HeadersLike): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function')
    return (headers as { get(name: string): string | null }).get('authorization') ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const value = record.authorization ?? record.Authorization;
  return typeof value === 'string' ? value : value?.[0];
}

/** Keys from GetJwks, fetched again on an unknown `kid` (at most once per `cooldownMs`). */
function grpcKeySet(session: SessionApi, cooldownMs: number): JWTVerifyGetKey {
  let keys: Jwk[] = [];
  let local = createLocalJWKSet({ keys: [] });
  let fetchedAt = -Infinity;
  let fetching: Promise<void> | undefined;
  const refetch = () =>
    (fetching ??= session
      .getJwks()
      .then((fresh) => {
        keys = fresh;
        local = createLocalJWKSet({ keys: keys.map((k) => ({ ...k })) });
        fetchedAt = Date.now();
      })
      .finally(() => (fetching = undefined)));
  return async (header, token) => {
    const known = keys.some((k) => k.kid === header.kid);
    if (!known && Date.now() - fetchedAt >= cooldownMs) await refetch();
    return local(header, token);
  };
}

/** A gateway following session-service: start it once per process, then call `authenticate`. */
export function createGateway(options: GatewayOptions): Gateway {
  const now = options.now ?? Date.now;
  const lifetimeMs = options.tokenLifetimeMs ?? 5 * 60_000;
  const toleranceMs = options.clockToleranceMs ?? 5_000;
  const store =
    options.checkpoints ??
    new FileCheckpointStore(options.checkpointFile ?? 'warden-gateway-checkpoint.json');
  const report = options.onError ?? (() => undefined);
  const keySet = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), { cooldownDuration: 1_000 })
    : grpcKeySet(options.session, 1_000);
  const state = new RevocationState(lifetimeMs + toleranceMs);
  const verified = new VerifiedTokens<VerifiedClaims>(options.verifiedTokenCacheSize ?? 10_000);
  const abort = new AbortController();
  let cursor = '';
  let connected = false;
  let downSince: number | undefined = now();
  let applied = 0;
  let unsaved: RevocationItem[] = [];
  let saving: Promise<void> = Promise.resolve();
  let saveQueued = false;

  /** Saves the cursor and state as they are now, with the items applied since the last save. */
  const saveNow = async (): Promise<void> => {
    const items = unsaved;
    unsaved = [];
    const snapshot: Checkpoint = { version: 1, cursor, savedAt: now(), state: state.snapshot() };
    try {
      await store.save(snapshot, items);
    } catch (error) {
      // Not saved: the items go with the next save (the next item or close() asks for one).
      unsaved = [...items, ...unsaved];
      report(error, 'saving the checkpoint');
      return;
    }
    options.onCheckpoint?.(items);
  };

  /**
   * Saves coalesce: one write at a time, and at most one queued behind it, which takes everything
   * applied by the time it runs. Resolves once what was applied before the call is saved (or failed).
   */
  const checkpoint = (): Promise<void> => {
    if (!saveQueued) {
      saveQueued = true;
      saving = saving.then(() => {
        saveQueued = false;
        return saveNow();
      });
    }
    return saving;
  };

  const apply = (item: RevocationItem) => {
    state.apply(item);
    cursor = item.cursor;
    applied++;
    unsaved.push(item);
  };

  /** A gap in what the feed told us: every token issued before now may be revoked. */
  const resync = () => {
    state.refuseAllIssuedBefore(now());
    cursor = '';
  };

  const follow = async () => {
    let backoffMs = 100;
    let pruneAt = 0;
    while (!abort.signal.aborted) {
      // Connected once session-service says the feed is open (or an item arrives), not when a call
      // is merely attempted: attempts refused at once must not restart the down time each backoff.
      const up = (start?: string) => {
        connected = true;
        downSince = undefined;
        // Started from now: keep where, so a reconnect before any item resumes without a gap.
        if (cursor === '' && start) {
          cursor = start;
          void checkpoint();
        }
      };
      try {
        if (cursor === '') resync();
        for await (const item of options.session.watchRevocations(cursor, abort.signal, up)) {
          if (!connected) up();
          apply(item);
          backoffMs = 100;
          if (now() >= pruneAt) {
            state.prune(now());
            pruneAt = now() + 10_000;
          }
          void checkpoint();
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        const code = grpcCodeOf(error);
        // OUT_OF_RANGE (past retention) or INVALID_ARGUMENT (not a cursor): start anew, refusing older tokens.
        if (code === 11 || code === 3) resync();
        report(error, 'following the revocation feed');
      }
      if (connected) {
        connected = false;
        downSince = now();
      }
      if (abort.signal.aborted) break;
      await sleep(backoffMs, undefined, { signal: abort.signal }).catch(() => undefined);
      backoffMs = Math.min(backoffMs * 2, 5_000);
    }
  };

  const started = (async () => {
    const saved = await store.load();
    if (saved) {
      state.restore(saved.state);
      cursor = saved.cursor;
      downSince = saved.savedAt;
    }
    void follow();
  })();

  const verifyClaims = async (token: string): Promise<VerifiedClaims> => {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keySet, {
        issuer: options.issuer,
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
        requiredClaims: ['sub', 'sid', 'iat', 'exp'],
        // Revocations are kept tokenLifetimeMs: an older token (exp further out than that, a ttl
        // longer than the gateway was told) would outlive the end of its session being remembered.
        maxTokenAge: Math.floor(lifetimeMs / 1000),
        clockTolerance: Math.floor(toleranceMs / 1000),
        currentDate: new Date(now()),
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw new GatewayError('TOKEN_EXPIRED', 'the access token has expired', { cause: error });
      throw new GatewayError('INVALID_TOKEN', 'the access token is not valid', { cause: error });
    }
    const { sub, sid, iat, exp, aal } = payload as {
      sub: string;
      sid: unknown;
      iat: number;
      exp: number;
      aal?: unknown;
    };
    if (typeof sid !== 'string')
      throw new GatewayError('INVALID_TOKEN', 'the access token names no session');
    return { sub, sid, iat, exp, aal: aal === 'aal2' ? 'aal2' : 'aal1' };
  };

  /** Signature and claims, checked once per token text (revocations are checked every time). */
  const claimsOf = async (token: string): Promise<VerifiedClaims> => {
    const cached = verified.get(token, now());
    if (cached) return cached;
    const claims = await verifyClaims(token);
    // Until it would fail verification: its exp, or its maximum age.
    verified.set(
      token,
      claims,
      Math.min(claims.exp, claims.iat + Math.floor(lifetimeMs / 1000)) * 1000,
    );
    return claims;
  };

  const verifyAccessToken = async (token: string): Promise<Principal> => {
    const down = connected ? undefined : downSince;
    if (down !== undefined && now() - down > lifetimeMs)
      throw new GatewayError(
        'REVOCATIONS_UNAVAILABLE',
        'the revocation feed has been down longer than an access token lives',
      );
    const { sub, sid, iat, exp, aal } = await claimsOf(token);
    const why = state.revoked(sub, sid, iat * 1000);
    if (why) throw new GatewayError('TOKEN_REVOKED', `the access token was revoked: ${why}`);
    return {
      userId: sub,
      sessionId: sid,
      aal,
      via: 'access_token',
      expiresAt: new Date(exp * 1000),
    };
  };

  return {
    async authenticate(headers) {
      const match = BEARER.exec(authorizationOf(headers) ?? '');
      if (!match) throw new GatewayError('MISSING_CREDENTIALS', 'no bearer token');
      const token = match[1]!;
      if (token.startsWith(SESSION_TOKEN_PREFIX))
        return { ...(await options.session.validateSession(token)), via: 'session_token' };
      return verifyAccessToken(token);
    },
    ready: () => started,
    status: () => ({
      connected,
      downSince: connected ? undefined : downSince,
      cursor,
      applied,
      tracked: state.size,
    }),
    async close() {
      abort.abort();
      await started.catch(() => undefined);
      await checkpoint();
      options.session.close();
    },
  };
}
