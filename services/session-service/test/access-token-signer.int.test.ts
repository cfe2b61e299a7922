import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessTokenSigner,
  type AccessTokenSettings,
} from '../src/adapters/crypto/access-token-signer.js';
import { PgSigningKeyStore } from '../src/adapters/prisma/pg-signing-key-store.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { FixedClock } from './support/fixed-clock.js';
import { aSession } from './support/mothers.js';

const MIN = 60_000;
const settings: AccessTokenSettings = {
  issuer: 'warden-test',
  ttlMs: 5 * MIN,
  rotationMs: 60 * MIN,
  refreshMs: MIN,
  secret: 'test-signing-secret-0123456789-abcdef',
};
const logger = { info: () => undefined, warn: () => undefined };

let db: MigratedSchema;
beforeAll(async () => {
  db = await migratedSchema('session_keys');
});
afterAll(() => db.drop());

const verify = (token: string, signer: AccessTokenSigner, clock: FixedClock) =>
  jwtVerify(token, createLocalJWKSet({ keys: [...signer.publicKeys()] }), {
    issuer: settings.issuer,
    currentDate: clock.now(),
  });

describe('AccessTokenSigner over Postgres', () => {
  it('signs EdDSA tokens with the contract claims that verify against the published keys', async () => {
    await db.pool.query('DELETE FROM access_token_keys');
    const clock = new FixedClock();
    const signer = new AccessTokenSigner(new PgSigningKeyStore(db.pool), settings, clock, logger);
    await signer.refresh();
    const session = aSession({ id: '0190a000-0000-7000-8000-000000000001' });
    const { token, expireTime } = await signer.issue(session);
    const { payload, protectedHeader } = await verify(token, signer, clock);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(payload).toMatchObject({
      iss: 'warden-test',
      sub: session.userId,
      sid: session.id,
      aal: 'aal1',
      iat: clock.now().getTime() / 1000,
      exp: clock.now().getTime() / 1000 + 300,
    });
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(expireTime).toEqual(new Date(clock.now().getTime() + 5 * MIN));
    const { rows } = await db.pool.query<{ sealed: Buffer }>(
      'SELECT sealed_private_key AS sealed FROM access_token_keys',
    );
    // The private key is stored sealed: no PKCS#8 Ed25519 prefix in the clear.
    expect(rows[0]!.sealed.includes(Buffer.from('302e020100300506032b6570', 'hex'))).toBe(false);
  });

  it('rotates across replicas with overlap: tokens of the old key verify until they lapse', async () => {
    await db.pool.query('DELETE FROM access_token_keys');
    const clock = new FixedClock();
    const store = new PgSigningKeyStore(db.pool);
    const a = new AccessTokenSigner(store, settings, clock, logger);
    const b = new AccessTokenSigner(store, settings, clock, logger);
    await Promise.all([a.refresh(), b.refresh()]);
    const first = await a.issue(aSession());
    const firstKid = decodeProtectedHeader(first.token).kid;
    expect(decodeProtectedHeader((await b.issue(aSession())).token).kid).toBe(firstKid);

    // Both replicas notice the rotation is due at once: one key is made, published before it signs.
    clock.advance(59 * MIN);
    await Promise.all([a.refresh(), b.refresh()]);
    expect((await store.list()).length).toBe(2);
    expect(a.publicKeys().map((k) => k.kid)).toEqual(b.publicKeys().map((k) => k.kid));
    expect(decodeProtectedHeader((await a.issue(aSession())).token).kid).toBe(firstKid);
    const old = await b.issue(aSession());

    clock.advance(MIN);
    const fresh = await a.issue(aSession());
    expect(decodeProtectedHeader(fresh.token).kid).not.toBe(firstKid);
    // The token signed with the old key just before the takeover still verifies.
    await expect(verify(old.token, a, clock)).resolves.toBeDefined();

    // Once it has lapsed, its key is no longer published; the rows go too.
    clock.advance(6 * MIN);
    await a.refresh();
    expect(a.publicKeys().map((k) => k.kid)).toEqual([decodeProtectedHeader(fresh.token).kid]);
    expect((await store.list()).length).toBe(1);
    await expect(verify(fresh.token, a, clock)).rejects.toThrow();

    // Each key change is in the audit trail (keys publish no event), by kid only.
    const freshKid = decodeProtectedHeader(fresh.token).kid!;
    const { rows: trail } = await db.pool.query<{
      action: string;
      target_id: string;
      details: object;
    }>(
      `SELECT action, target_id, details FROM audit_events
       WHERE target_type = 'signing_key' AND target_id = ANY($1) ORDER BY time, id`,
      [[firstKid, freshKid]],
    );
    expect(trail).toEqual([
      { action: 'signing_key.rotated', target_id: firstKid, details: {} },
      { action: 'signing_key.rotated', target_id: freshKid, details: { replaced_kid: firstKid } },
      { action: 'signing_key.deleted', target_id: firstKid, details: {} },
    ]);
  });

  it('replaces a signing key sealed under a secret it does not hold', async () => {
    await db.pool.query('DELETE FROM access_token_keys');
    const clock = new FixedClock();
    const store = new PgSigningKeyStore(db.pool);
    const before = new AccessTokenSigner(store, settings, clock, logger);
    await before.refresh();
    const after = new AccessTokenSigner(
      store,
      { ...settings, secret: 'another-signing-secret-0123456789-abcd' },
      clock,
      logger,
    );
    await after.refresh();
    clock.advance(MIN);
    const token = await after.issue(aSession());
    expect(decodeProtectedHeader(token.token).kid).not.toBe(before.publicKeys()[0]!.kid);
    // With the earlier secret among previous_signing_secrets the old key opens: no rotation.
    await db.pool.query('DELETE FROM access_token_keys');
    await before.refresh();
    const rolling = new AccessTokenSigner(
      store,
      {
        ...settings,
        secret: 'another-signing-secret-0123456789-abcd',
        previousSecrets: [settings.secret],
      },
      clock,
      logger,
    );
    await rolling.refresh();
    expect((await store.list()).length).toBe(1);
    expect(decodeProtectedHeader((await rolling.issue(aSession())).token).kid).toBe(
      before.publicKeys()[0]!.kid,
    );
  });
});
