import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { aSigningKey, anAccessToken, FakeSessionApi } from '../test/fake-session-api.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { createGateway, type Gateway, type GatewayOptions } from './gateway.js';
import { GatewayError } from './errors.js';

const MIN = 60_000;

/** Waits until the gateway has applied `n` items (the feed is asynchronous, not timed). */
async function applied(gateway: Gateway, n: number): Promise<void> {
  for (let i = 0; i < 1_000 && gateway.status().applied < n; i++) await sleep(2);
  expect(gateway.status().applied).toBe(n);
}

async function connected(gateway: Gateway): Promise<void> {
  await gateway.ready();
  for (let i = 0; i < 1_000 && !gateway.status().connected; i++) await sleep(2);
  expect(gateway.status().connected).toBe(true);
}

function setup(overrides: Partial<GatewayOptions> = {}) {
  const session = new FakeSessionApi();
  const key = aSigningKey('k1');
  session.keys = [key.jwk];
  let clock = Date.UTC(2026, 10, 30, 10, 0, 0);
  const checkpoints = new MemoryCheckpointStore();
  const make = () =>
    createGateway({
      session,
      issuer: 'warden-test',
      checkpoints,
      now: () => clock,
      ...overrides,
    });
  return {
    session,
    key,
    checkpoints,
    make,
    advance: (ms: number) => (clock += ms),
    now: () => clock,
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );

describe('createGateway', () => {
  it('accepts an access token verified locally, with the claims as the principal', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const token = await anAccessToken(t.key, { sub: 'u1', sid: 's1', aal: 'aal2', iatMs: t.now() });
    await expect(gateway.authenticate(bearer(token))).resolves.toMatchObject({
      userId: 'u1',
      sessionId: 's1',
      aal: 'aal2',
      via: 'access_token',
    });
    // The keys were fetched once for the unknown kid, then served from the cache.
    await gateway.authenticate(new Headers(bearer(token)));
    expect(t.session.jwksCalls).toBe(1);
    await gateway.close();
  });

  it('refuses tampered, expired, wrong-issuer, unsigned and foreign-key tokens', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const good = await anAccessToken(t.key, { iatMs: t.now() });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'k1' })).toString(
      'base64url',
    );
    const cases = {
      tampered: `${header}.${forged}.${signature}`,
      unsigned: `${none}.${payload}.`,
      expired: await anAccessToken(t.key, { iatMs: t.now() - 10 * MIN }),
      wrongIssuer: await anAccessToken(t.key, { iatMs: t.now(), iss: 'someone-else' }),
      foreignKey: await anAccessToken(aSigningKey('k1'), { iatMs: t.now() }),
      garbage: 'not-a-jwt',
    };
    const outcomes = Object.fromEntries(
      await Promise.all(
        Object.entries(cases).map(async ([name, token]) => [
          name,
          await codeOf(gateway.authenticate(bearer(token))),
        ]),
      ),
    );
    expect(outcomes).toEqual({
      tampered: 'INVALID_TOKEN',
      unsigned: 'INVALID_TOKEN',
      expired: 'TOKEN_EXPIRED',
      wrongIssuer: 'INVALID_TOKEN',
      foreignKey: 'INVALID_TOKEN',
      garbage: 'INVALID_TOKEN',
    });
    expect(await codeOf(gateway.authenticate({}))).toBe('MISSING_CREDENTIALS');
    await gateway.close();
  });

  it('applies the feed: ended sessions, disabled users, password and role changes', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const issued = t.now();
    const token = (sub: string, sid: string) => anAccessToken(t.key, { sub, sid, iatMs: issued });
    const [ended, disabled, passwordKept, passwordOther, roles] = await Promise.all([
      token('u1', 's1'),
      token('u2', 's2'),
      token('u3', 's3'),
      token('u3', 's4'),
      token('u4', 's5'),
    ]);
    t.advance(3_000);
    const time = new Date(t.now());
    t.session.push({ kind: 'SESSION_ENDED', sessionId: 's1', userId: 'u1', time });
    t.session.push({ kind: 'USER_DISABLED', sessionId: '', userId: 'u2', time });
    t.session.push({ kind: 'PASSWORD_CHANGED', sessionId: 's3', userId: 'u3', time });
    t.session.push({ kind: 'ROLES_CHANGED', sessionId: '', userId: 'u4', time });
    await applied(gateway, 4);
    const outcome = async (t: string) => codeOf(gateway.authenticate(bearer(t)));
    expect({
      ended: await outcome(ended),
      disabled: await outcome(disabled),
      passwordKept: await outcome(passwordKept),
      passwordOther: await outcome(passwordOther),
      roles: await outcome(roles),
    }).toEqual({
      ended: 'TOKEN_REVOKED',
      disabled: 'TOKEN_REVOKED',
      passwordKept: 'accepted',
      passwordOther: 'TOKEN_REVOKED',
      roles: 'TOKEN_REVOKED',
    });
    // A token issued after a user-wide revocation (a refresh) is accepted again.
    t.advance(1_000);
    const refreshed = await anAccessToken(t.key, { sub: 'u4', sid: 's5', iatMs: t.now() });
    expect(await outcome(refreshed)).toBe('accepted');
    await gateway.close();
  });

  it('checks a token it verified before against every later revocation', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const token = await anAccessToken(t.key, { sub: 'u1', sid: 's1', iatMs: t.now() });
    expect(await codeOf(gateway.authenticate(bearer(token)))).toBe('accepted');
    expect(await codeOf(gateway.authenticate(bearer(token)))).toBe('accepted');
    t.advance(1_000);
    t.session.push({
      kind: 'SESSION_ENDED',
      sessionId: 's1',
      userId: 'u1',
      time: new Date(t.now()),
    });
    await applied(gateway, 1);
    expect(await codeOf(gateway.authenticate(bearer(token)))).toBe('TOKEN_REVOKED');
    // Remembered only while it would verify: past its exp it is expired, not accepted.
    const other = await anAccessToken(t.key, { sub: 'u2', sid: 's2', iatMs: t.now() });
    expect(await codeOf(gateway.authenticate(bearer(other)))).toBe('accepted');
    t.advance(6 * MIN);
    expect(await codeOf(gateway.authenticate(bearer(other)))).toBe('TOKEN_EXPIRED');
    await gateway.close();
  });

  it('fetches the keys again for an unknown kid: tokens of a rotated-in key verify', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const old = await anAccessToken(t.key, { iatMs: t.now() });
    await gateway.authenticate(bearer(old));
    const next = aSigningKey('k2');
    t.session.keys = [next.jwk, t.key.jwk];
    await sleep(1_100); // the refetch cooldown is wall-clock: one per second at most
    const fresh = await anAccessToken(next, { iatMs: t.now() });
    expect(await codeOf(gateway.authenticate(bearer(fresh)))).toBe('accepted');
    expect(await codeOf(gateway.authenticate(bearer(old)))).toBe('accepted');
    expect(t.session.jwksCalls).toBe(2);
    await gateway.close();
  });

  it('falls back to ValidateSession for opaque wst_ tokens', async () => {
    const t = setup();
    const gateway = t.make();
    t.session.sessions.set('wst_abc', {
      userId: 'u1',
      sessionId: 's1',
      aal: 'aal1',
      expiresAt: new Date(t.now() + MIN),
    });
    await expect(gateway.authenticate(bearer('wst_abc'))).resolves.toMatchObject({
      userId: 'u1',
      via: 'session_token',
    });
    expect(await codeOf(gateway.authenticate(bearer('wst_unknown')))).toBe('SESSION_INVALID');
    await gateway.close();
  });

  it('resumes from its checkpoint after a restart, with what it had applied', async () => {
    const t = setup();
    const first = t.make();
    await connected(first);
    t.advance(2_000);
    const token = await anAccessToken(t.key, { sub: 'u1', sid: 's1', iatMs: t.now() });
    t.session.push({
      kind: 'SESSION_ENDED',
      sessionId: 's1',
      userId: 'u1',
      time: new Date(t.now()),
    });
    await applied(first, 1);
    await first.close();
    // While no gateway runs, another session ends.
    const other = await anAccessToken(t.key, { sub: 'u2', sid: 's2', iatMs: t.now() });
    t.session.push({
      kind: 'SESSION_ENDED',
      sessionId: 's2',
      userId: 'u2',
      time: new Date(t.now()),
    });
    const second = t.make();
    await connected(second);
    await applied(second, 1);
    expect(t.session.watches).toEqual(['', '1']);
    expect(await codeOf(second.authenticate(bearer(token)))).toBe('TOKEN_REVOKED');
    expect(await codeOf(second.authenticate(bearer(other)))).toBe('TOKEN_REVOKED');
    await second.close();
  });

  it('hands each save the items it makes durable, and saves again after a failed save', async () => {
    const saves: Array<{ cursor: string; items: string[] }> = [];
    let failNext = false;
    const errors: string[] = [];
    const store = new MemoryCheckpointStore();
    const t = setup({
      checkpoints: {
        load: () => store.load(),
        async save(checkpoint, items) {
          if (failNext) {
            failNext = false;
            throw new Error('disk full');
          }
          await store.save(checkpoint);
          saves.push({ cursor: checkpoint.cursor, items: items.map((i) => i.sessionId) });
        },
      },
      onError: (error, context) => errors.push(`${context}: ${String(error)}`),
    });
    const gateway = t.make();
    await connected(gateway);
    const end = (sessionId: string) =>
      t.session.push({ kind: 'SESSION_ENDED', sessionId, userId: 'u', time: new Date(t.now()) });
    failNext = true;
    end('s1');
    await applied(gateway, 1);
    for (let i = 0; i < 1_000 && errors.length === 0; i++) await sleep(2);
    expect(errors).toEqual(['saving the checkpoint: Error: disk full']);
    // The next item asks for a save that takes the one whose save failed along with it.
    end('s2');
    await applied(gateway, 2);
    for (let i = 0; i < 1_000 && !saves.some((s) => s.items.includes('s2')); i++) await sleep(2);
    const journaled = saves.flatMap((s) => s.items);
    expect(journaled).toEqual(['s1', 's2']);
    expect(saves.at(-1)!.cursor).toBe('2');
    expect((await store.load())!.cursor).toBe('2');
    await gateway.close();
  });

  it('refuses tokens issued before it follows the feed, and after OUT_OF_RANGE starts anew', async () => {
    const t = setup();
    const before = await anAccessToken(t.key, { iatMs: t.now() - 1_000 });
    const gateway = t.make();
    await connected(gateway);
    expect(await codeOf(gateway.authenticate(bearer(before)))).toBe('TOKEN_REVOKED');
    t.advance(2_000);
    t.session.push({ kind: 'USER_DISABLED', sessionId: '', userId: 'x', time: new Date(t.now()) });
    await applied(gateway, 1);
    t.advance(1_000);
    const during = await anAccessToken(t.key, { iatMs: t.now() });
    expect(await codeOf(gateway.authenticate(bearer(during)))).toBe('accepted');
    t.advance(1_000);
    t.session.fail(Object.assign(new Error('cursor past retention'), { code: 11 }));
    for (let i = 0; i < 1_000 && t.session.watches.length < 2; i++) await sleep(2);
    await connected(gateway);
    expect(t.session.watches.at(-1)).toBe('');
    expect(await codeOf(gateway.authenticate(bearer(during)))).toBe('TOKEN_REVOKED');
    await gateway.close();
  });

  it('resumes a quiet feed from its start cursor: a reconnect before any item refuses nothing', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const token = await anAccessToken(t.key, { iatMs: t.now() });
    t.session.fail(Object.assign(new Error('session-service restarted'), { code: 14 }));
    // A revocation while the gateway is away, for another session.
    t.session.push({
      kind: 'SESSION_ENDED',
      sessionId: 'gone',
      userId: 'u9',
      time: new Date(t.now()),
    });
    await applied(gateway, 1);
    expect(t.session.watches).toEqual(['', '0']);
    expect(await codeOf(gateway.authenticate(bearer(token)))).toBe('accepted');
    await gateway.close();
  });

  it('fails closed once the feed has been down longer than a token lives', async () => {
    const t = setup();
    const gateway = t.make();
    await connected(gateway);
    t.advance(2_000);
    const token = await anAccessToken(t.key, { iatMs: t.now() });
    t.session.down = Object.assign(new Error('unavailable'), { code: 14 });
    t.session.fail(t.session.down);
    // Checked in the same tick as the status: reconnect attempts keep failing in between.
    const whileDown = async () => {
      for (let i = 0; i < 1_000 && gateway.status().connected; i++) await sleep(1);
      expect(gateway.status().connected).toBe(false);
      return codeOf(gateway.authenticate(bearer(token)));
    };
    expect(await whileDown()).toBe('accepted');
    t.advance(5 * MIN + 1);
    expect(await whileDown()).toBe('REVOCATIONS_UNAVAILABLE');
    t.session.down = undefined;
    await connected(gateway);
    // Back, resuming from the feed's start cursor: nothing was missed, the token is good again.
    expect(t.session.watches.at(-1)).not.toBe('');
    expect(await codeOf(gateway.authenticate(bearer(token)))).toBe('accepted');
    await gateway.close();
  });
});
