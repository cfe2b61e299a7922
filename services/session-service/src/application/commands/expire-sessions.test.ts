import { sweepInBatches } from '@warden/runtime';
import { describe, expect, it } from 'vitest';
import { aSession, HOUR, MINUTE, T0 } from '../../../test/support/mothers.js';
import { FixedClock } from '../../../test/support/fixed-clock.js';
import { MemorySessionRepository } from '../../adapters/memory/memory-session-repository.js';
import { end } from '../../domain/session.js';
import { ExpireSessionsHandler } from './expire-sessions.js';

const at = (ms: number) => new Date(T0.getTime() + ms);

function setup(batchSize = 10) {
  const sessions = new MemorySessionRepository();
  const clock = new FixedClock(T0);
  const sweeper = new ExpireSessionsHandler({ sessions, clock, batchSize, idleGraceMs: 2_000 });
  const add = (...list: ReturnType<typeof aSession>[]) =>
    list.forEach((s) => sessions.sessions.set(s.id, s));
  return { sessions, clock, sweeper, add };
}

describe('ExpireSessions (the sweeper)', () => {
  it('records idle and absolute expiries at their instants and emits SessionExpired', async () => {
    const { sessions, clock, sweeper, add } = setup();
    const idle = aSession();
    const old = aSession({ now: at(-24 * HOUR + 10 * MINUTE), idleExpireTime: at(20 * MINUTE) });
    const live = aSession({ now: at(10 * MINUTE) });
    add(idle, old, live);
    clock.set(at(31 * MINUTE));
    await expect(sweeper.execute()).resolves.toBe(2);
    expect(sessions.sessions.get(idle.id)).toMatchObject({
      status: 'EXPIRED',
      endReason: 'IDLE_TIMEOUT',
      endTime: at(30 * MINUTE),
    });
    expect(sessions.sessions.get(old.id)).toMatchObject({
      status: 'EXPIRED',
      endReason: 'ABSOLUTE_TIMEOUT',
      endTime: old.expireTime,
    });
    expect(sessions.sessions.get(live.id)!.status).toBe('ACTIVE');
    expect(
      sessions
        .eventsOf('expired')
        .map((s) => s.id)
        .sort(),
    ).toEqual([idle.id, old.id].sort());
  });

  it('leaves a just-idle session for the grace period a replica may still be writing activity in', async () => {
    const { sessions, clock, sweeper, add } = setup();
    const idle = aSession();
    add(idle);
    clock.set(at(30 * MINUTE + 1_000));
    await expect(sweeper.execute()).resolves.toBe(0);
    clock.set(at(30 * MINUTE + 2_000));
    await expect(sweeper.execute()).resolves.toBe(1);
    expect(sessions.sessions.get(idle.id)!.endTime).toEqual(at(30 * MINUTE));
  });

  it('works through more sessions than one batch and skips ended ones', async () => {
    const { sessions, clock, sweeper, add } = setup(2);
    add(
      aSession(),
      aSession(),
      aSession(),
      aSession(),
      aSession(),
      end(aSession(), 'LOGOUT', at(MINUTE))!,
    );
    clock.set(at(HOUR));
    await expect(sweeper.execute()).resolves.toBe(2); // one batch a call
    await expect(sweepInBatches(() => sweeper.execute(), 2)).resolves.toBe(3);
    await expect(sweeper.execute()).resolves.toBe(0);
    expect(sessions.eventsOf('expired')).toHaveLength(5);
  });
});
