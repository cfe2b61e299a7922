import { createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { migrate } from '../../libs/db/src/index.js';
import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGateway,
  GatewayError,
  MemoryCheckpointStore,
  type Gateway,
  type SessionApi,
} from '../../libs/gateway/src/index.js';
import {
  AccessTokenSigner,
  openPrivateKey,
} from '../../services/session-service/src/adapters/crypto/access-token-signer.js';
import { PgSigningKeyStore } from '../../services/session-service/src/adapters/prisma/pg-signing-key-store.js';
import { DEV_SIGNING_SECRET, MIGRATIONS_DIR } from '../../services/session-service/src/config.js';
import { newSession } from '../../services/session-service/src/domain/session.js';

/**
 * Attacks on access tokens, with session-service's real signer over Postgres and the gateway
 * library verifying: forged headers and algorithms, a key of the attacker's own under the real
 * kid, and a database dump of the signing keys. Each must get nothing but a refusal.
 */
const ISSUER = 'warden-security';
const SECRET = 'production-like-signing-secret-0123456789abcdef';
const logger = { info: () => undefined, warn: () => undefined };

let db: TestSchema;
let signer: AccessTokenSigner;
let gateway: Gateway;

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const session = () =>
  newSession({
    id: randomUUID(),
    userId: randomUUID(),
    tokenHash: randomUUID(),
    client: { ipAddress: '', userAgent: '' },
    now: new Date(),
    lifetimes: { absoluteTtlMs: 3_600_000, idleTimeoutMs: 1_800_000 },
  });
const outcome = (token: string) =>
  gateway.authenticate({ authorization: `Bearer ${token}` }).then(
    (p) => `accepted as ${p.userId}`,
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );

beforeAll(async () => {
  db = await testSchema('session_tokens_attack', 4);
  await migrate(db.pool, { schema: db.schema, migrationsDir: MIGRATIONS_DIR });
  signer = new AccessTokenSigner(
    new PgSigningKeyStore(db.pool),
    { issuer: ISSUER, ttlMs: 300_000, rotationMs: 86_400_000, refreshMs: 30_000, secret: SECRET },
    { now: () => new Date() },
    logger,
  );
  await signer.refresh();
  // session-service as the gateway sees it: its published keys and a quiet feed.
  const api: SessionApi = {
    getJwks: async () => signer.publicKeys().map((k) => ({ ...k })),
    validateSession: async () => {
      throw new GatewayError('SESSION_INVALID', 'no opaque tokens here');
    },
    async *watchRevocations(_after, signal) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
    close: () => undefined,
  };
  gateway = createGateway({
    session: api,
    issuer: ISSUER,
    checkpoints: new MemoryCheckpointStore(),
  });
  await gateway.ready();
  // Tokens from before the gateway followed the feed are refused: sign after its first second.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

describe('forged access tokens', () => {
  it('a genuine token is accepted (the control)', async () => {
    const s = session();
    const { token } = await signer.issue(s);
    expect(await outcome(token)).toBe(`accepted as ${s.userId}`);
  });

  it('refuses claims rewritten under a genuine signature', async () => {
    const { token } = await signer.issue(session());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const admin = b64({
      ...claims,
      sub: randomUUID(),
      exp: Math.floor(Date.now() / 1000) + 86_400,
    });
    expect(await outcome(`${header}.${admin}.${signature}`)).toBe('INVALID_TOKEN');
  });

  it('refuses alg none, and HS256 keyed with the published public key (algorithm confusion)', async () => {
    const { token } = await signer.issue(session());
    const [header, payload] = token.split('.') as [string, string];
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const none = `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`;
    const hsHeader = b64({ alg: 'HS256', typ: 'at+jwt', kid });
    const published = signer.publicKeys()[0]!;
    const confused = [
      published.x,
      JSON.stringify(published),
      Buffer.from(published.x, 'base64url'),
    ].map(
      (secret) =>
        `${hsHeader}.${payload}.${createHmac('sha256', secret).update(`${hsHeader}.${payload}`).digest('base64url')}`,
    );
    expect(await outcome(none)).toBe('INVALID_TOKEN');
    for (const forged of confused) expect(await outcome(forged)).toBe('INVALID_TOKEN');
  });

  it("refuses a token signed by the attacker's key under the real kid, or carrying its own jwk", async () => {
    const { token } = await signer.issue(session());
    const [header, payload] = token.split('.') as [string, string];
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signWith = (h: string) =>
      `${h}.${payload}.${sign(null, Buffer.from(`${h}.${payload}`), privateKey).toString('base64url')}`;
    const sameKid = b64({ alg: 'EdDSA', typ: 'at+jwt', kid });
    const embedded = b64({ alg: 'EdDSA', typ: 'at+jwt', jwk: publicKey.export({ format: 'jwk' }) });
    expect(await outcome(signWith(sameKid))).toBe('INVALID_TOKEN');
    expect(await outcome(signWith(embedded))).toBe('INVALID_TOKEN');
  });

  it('a database dump of the signing keys signs nothing: the private halves are sealed', async () => {
    const { rows } = await db.pool.query<{ kid: string; sealed: Buffer }>(
      'SELECT kid, sealed_private_key AS sealed FROM access_token_keys',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { kid, sealed } of rows) {
      // Not a private key as stored, and not with the public dev secret either.
      expect(openPrivateKey(DEV_SIGNING_SECRET, kid, sealed)).toBeUndefined();
      expect(openPrivateKey(SECRET.slice(0, -1), kid, sealed)).toBeUndefined();
      expect(() => createPrivateKey({ key: sealed, format: 'der', type: 'pkcs8' })).toThrow();
      // A row's key moved under another kid does not open either (the kid is bound in).
      expect(openPrivateKey(SECRET, `${kid}x`, sealed)).toBeUndefined();
      expect(openPrivateKey(SECRET, kid, sealed)).toBeDefined();
    }
  });
});
