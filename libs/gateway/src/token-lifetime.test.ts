import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { aSigningKey, anAccessToken, FakeSessionApi } from '../test/fake-session-api.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { GatewayError } from './errors.js';
import { createGateway, type Gateway } from './gateway.js';

/**
 * Attack: a token that lives longer than the gateway keeps revocations. The gateway forgets a
 * revocation `tokenLifetimeMs` after it happened; a token whose `exp` lies further out (session-
 * service configured with a longer access_tokens.ttl than the gateway was told, or any signer's
 * mistake) would be accepted again once its session's end was pruned, for the rest of its life.
 */
const MIN = 60_000;

async function applied(gateway: Gateway, n: number): Promise<void> {
  for (let i = 0; i < 1_000 && gateway.status().applied < n; i++) await sleep(2);
  expect(gateway.status().applied).toBe(n);
}

const outcome = (gateway: Gateway, token: string) =>
  gateway.authenticate({ authorization: `Bearer ${token}` }).then(
    (principal) => `accepted ${principal.sessionId}`,
    (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
  );

describe('a token living longer than the gateway tracks revocations', () => {
  it('is not honoured once the end of its session may have been forgotten', async () => {
    const session = new FakeSessionApi();
    const key = aSigningKey('k1');
    session.keys = [key.jwk];
    let clock = Date.UTC(2026, 10, 30, 10, 0, 0);
    const gateway = createGateway({
      session,
      issuer: 'warden-test',
      checkpoints: new MemoryCheckpointStore(),
      tokenLifetimeMs: 5 * MIN,
      now: () => clock,
    });
    await gateway.ready();
    for (let i = 0; i < 1_000 && !gateway.status().connected; i++) await sleep(2);
    clock += 2_000;
    // A 15 min token (session-service's ttl says 15m, the gateway was left at 5m).
    const long = await anAccessToken(key, { sub: 'u1', sid: 's1', iatMs: clock, ttlS: 15 * 60 });
    const usual = await anAccessToken(key, { sub: 'u2', sid: 's2', iatMs: clock });
    expect(await outcome(gateway, long)).toBe('accepted s1');
    clock += 1_000;
    session.push({ kind: 'SESSION_ENDED', sessionId: 's1', userId: 'u1', time: new Date(clock) });
    await applied(gateway, 1);
    expect(await outcome(gateway, long)).toBe('TOKEN_REVOKED');

    // Six minutes on, another item arrives and the gateway prunes what no 5 min token needs.
    clock += 6 * MIN;
    session.push({ kind: 'SESSION_ENDED', sessionId: 's9', userId: 'u9', time: new Date(clock) });
    await applied(gateway, 2);
    expect(gateway.status().tracked).toBe(1);
    // The ended session's token must not come back to life; a usual token has lapsed as well.
    expect(await outcome(gateway, long)).toBe('TOKEN_EXPIRED');
    expect(await outcome(gateway, usual)).toBe('TOKEN_EXPIRED');
    // A fresh 15 min token is accepted while it is younger than the tracked lifetime, not after.
    const fresh = await anAccessToken(key, { sub: 'u3', sid: 's3', iatMs: clock, ttlS: 15 * 60 });
    expect(await outcome(gateway, fresh)).toBe('accepted s3');
    clock += 5 * MIN + 6_000;
    expect(await outcome(gateway, fresh)).toBe('TOKEN_EXPIRED');
    await gateway.close();
  });
});
