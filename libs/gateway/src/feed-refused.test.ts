import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { aSigningKey, anAccessToken, FakeSessionApi } from '../test/fake-session-api.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { GatewayError } from './errors.js';
import { createGateway } from './gateway.js';

/**
 * Attack: keep session-service (or its feed) down, end a victim's session meanwhile, and use the
 * victim's token. The gateway must refuse every token once the feed has been down longer than a
 * token lives. It counted itself connected whenever it merely attempted the call, so attempts
 * refused at once (UNAVAILABLE every backoff, <= 5 s) restarted the down time and it never failed
 * closed. Connected now means session-service said the feed is open.
 */
const MIN = 60_000;

describe('a feed refused at every reconnect attempt', () => {
  it('counts as down from the first failure, and the gateway fails closed after a token lifetime', async () => {
    const session = new FakeSessionApi();
    const key = aSigningKey('k1');
    session.keys = [key.jwk];
    let clock = Date.UTC(2026, 10, 30, 10, 0, 0);
    const gateway = createGateway({
      session,
      issuer: 'warden-test',
      checkpoints: new MemoryCheckpointStore(),
      now: () => clock,
    });
    await gateway.ready();
    for (let i = 0; i < 1_000 && !gateway.status().connected; i++) await sleep(2);
    clock += 1_000;
    session.push({ kind: 'SESSION_ENDED', sessionId: 'x', userId: 'x', time: new Date(clock) });
    for (let i = 0; i < 1_000 && gateway.status().applied < 1; i++) await sleep(2);

    session.down = Object.assign(new Error('unavailable'), { code: 14 });
    session.fail(session.down);
    for (let i = 0; i < 1_000 && gateway.status().connected; i++) await sleep(2);
    expect(gateway.status()).toMatchObject({ connected: false, downSince: clock });
    const downAt = clock;
    // Six minutes of attempts, each refused at once.
    for (let round = 0; round < 3; round++) {
      const attempts = session.watches.length;
      clock += 2 * MIN;
      for (let i = 0; i < 5_000 && session.watches.length === attempts; i++) await sleep(2);
      expect(session.watches.length).toBeGreaterThan(attempts);
      expect(gateway.status()).toMatchObject({ connected: false, downSince: downAt });
    }
    const fresh = await anAccessToken(key, { iatMs: clock });
    const outcome = await gateway.authenticate({ authorization: `Bearer ${fresh}` }).then(
      () => 'accepted',
      (e: unknown) => (e instanceof GatewayError ? e.code : String(e)),
    );
    expect(outcome).toBe('REVOCATIONS_UNAVAILABLE');

    // Back: the feed opens, the gateway follows it again and accepts current tokens.
    session.down = undefined;
    for (let i = 0; i < 5_000 && !gateway.status().connected; i++) await sleep(2);
    expect(gateway.status().connected).toBe(true);
    await expect(gateway.authenticate({ authorization: `Bearer ${fresh}` })).resolves.toMatchObject(
      { via: 'access_token' },
    );
    await gateway.close();
  }, 60_000);
});
