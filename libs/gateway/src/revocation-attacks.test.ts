import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { aSigningKey, anAccessToken, FakeSessionApi } from '../test/fake-session-api.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { GatewayError } from './errors.js';
import { createGateway, type Gateway } from './gateway.js';

/**
 * Attacks on what the gateway remembers of revocations:
 * - a token living longer than the gateway keeps revocations (session-service's access_tokens.ttl
 *   longer than the gateway was told) was accepted again once its ended session was pruned;
 * - with session-service kept down, the gateway counted itself connected whenever it merely
 *   attempted the feed, so attempts refused at once (every <= 5 s) restarted the down time and it
 *   never failed closed: a session ended meanwhile stayed usable.
 */
const MIN = 60_000;

/** A gateway following a fake session-service's feed, on a clock the test moves. */
async function followingGateway(tokenLifetimeMs?: number) {
  const session = new FakeSessionApi();
  const key = aSigningKey('k1');
  session.keys = [key.jwk];
  let clock = Date.UTC(2026, 10, 30, 10, 0, 0);
  const gateway = createGateway({
    session,
    issuer: 'warden-test',
    checkpoints: new MemoryCheckpointStore(),
    ...(tokenLifetimeMs ? { tokenLifetimeMs } : {}),
    now: () => clock,
  });
  await gateway.ready();
  for (let i = 0; i < 1_000 && !gateway.status().connected; i++) await sleep(2);
  expect(gateway.status().connected).toBe(true);
  return {
    session,
    key,
    gateway,
    now: () => clock,
    advance: (ms: number) => (clock += ms),
    /** Waits until the gateway has applied `n` items (the feed is asynchronous). */
    applied: async (n: number) => {
      for (let i = 0; i < 1_000 && gateway.status().applied < n; i++) await sleep(2);
      expect(gateway.status().applied).toBe(n);
    },
  };
}

const outcome = (gateway: Gateway, token: string) =>
  gateway.authenticate({ authorization: `Bearer ${token}` }).then(
    (principal) => `accepted ${principal.sessionId}`,
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );

describe('a token living longer than the gateway tracks revocations', () => {
  it('is not honoured once the end of its session may have been forgotten', async () => {
    const t = await followingGateway(5 * MIN);
    t.advance(2_000);
    // A 15 min token (session-service's ttl says 15m, the gateway was left at 5m).
    const long = await anAccessToken(t.key, { sub: 'u1', sid: 's1', iatMs: t.now(), ttlS: 900 });
    const usual = await anAccessToken(t.key, { sub: 'u2', sid: 's2', iatMs: t.now() });
    expect(await outcome(t.gateway, long)).toBe('accepted s1');
    t.advance(1_000);
    t.session.push({
      kind: 'SESSION_ENDED',
      sessionId: 's1',
      userId: 'u1',
      time: new Date(t.now()),
    });
    await t.applied(1);
    expect(await outcome(t.gateway, long)).toBe('TOKEN_REVOKED');

    // Six minutes on, another item arrives and the gateway prunes what no 5 min token needs.
    t.advance(6 * MIN);
    t.session.push({
      kind: 'SESSION_ENDED',
      sessionId: 's9',
      userId: 'u9',
      time: new Date(t.now()),
    });
    await t.applied(2);
    expect(t.gateway.status().tracked).toBe(1);
    // The ended session's token must not come back to life; a usual token has lapsed as well.
    expect(await outcome(t.gateway, long)).toBe('TOKEN_EXPIRED');
    expect(await outcome(t.gateway, usual)).toBe('TOKEN_EXPIRED');
    // A fresh 15 min token is accepted while it is younger than the tracked lifetime, not after.
    const fresh = await anAccessToken(t.key, { sub: 'u3', sid: 's3', iatMs: t.now(), ttlS: 900 });
    expect(await outcome(t.gateway, fresh)).toBe('accepted s3');
    t.advance(5 * MIN + 6_000);
    expect(await outcome(t.gateway, fresh)).toBe('TOKEN_EXPIRED');
    await t.gateway.close();
  });
});

describe('a feed refused at every reconnect attempt', () => {
  it('counts as down from the first failure, and the gateway fails closed after a token lifetime', async () => {
    const t = await followingGateway();
    t.advance(1_000);
    t.session.push({ kind: 'SESSION_ENDED', sessionId: 'x', userId: 'x', time: new Date(t.now()) });
    await t.applied(1);

    t.session.down = Object.assign(new Error('unavailable'), { code: 14 });
    t.session.fail(t.session.down);
    for (let i = 0; i < 1_000 && t.gateway.status().connected; i++) await sleep(2);
    const downAt = t.now();
    expect(t.gateway.status()).toMatchObject({ connected: false, downSince: downAt });
    // Six minutes of attempts, each refused at once.
    for (let round = 0; round < 3; round++) {
      const attempts = t.session.watches.length;
      t.advance(2 * MIN);
      for (let i = 0; i < 5_000 && t.session.watches.length === attempts; i++) await sleep(2);
      expect(t.session.watches.length).toBeGreaterThan(attempts);
      expect(t.gateway.status()).toMatchObject({ connected: false, downSince: downAt });
    }
    const fresh = await anAccessToken(t.key, { sid: 's1', iatMs: t.now() });
    expect(await outcome(t.gateway, fresh)).toBe('REVOCATIONS_UNAVAILABLE');

    // Back: the feed opens, the gateway follows it again and accepts current tokens.
    t.session.down = undefined;
    for (let i = 0; i < 5_000 && !t.gateway.status().connected; i++) await sleep(2);
    expect(t.gateway.status().connected).toBe(true);
    expect(await outcome(t.gateway, fresh)).toBe('accepted s1');
    await t.gateway.close();
  }, 60_000);
});
