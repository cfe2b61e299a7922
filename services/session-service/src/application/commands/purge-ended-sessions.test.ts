import { sweepInBatches } from '@warden/runtime';
import { describe, expect, it } from 'vitest';
import { aSession, HOUR, T0 } from '../../../test/support/mothers.js';
import { FixedClock } from '../../../test/support/fixed-clock.js';
import { MemorySessionRepository } from '../../adapters/memory/memory-session-repository.js';
import { end } from '../../domain/session.js';
import { PurgeEndedSessionsHandler } from './purge-ended-sessions.js';

const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);

function setup(batchSize = 10) {
  const sessions = new MemorySessionRepository();
  const clock = new FixedClock(T0);
  const purge = new PurgeEndedSessionsHandler({
    sessions,
    clock,
    retentionMs: 30 * DAY,
    batchSize,
  });
  const add = (...list: ReturnType<typeof aSession>[]) =>
    list.forEach((s) => sessions.sessions.set(s.id, s));
  return { sessions, clock, purge, add };
}

describe('PurgeEndedSessions (housekeeping)', () => {
  it('deletes only sessions that ended longer ago than the retention', async () => {
    const { sessions, clock, purge, add } = setup();
    const old = end(aSession(), 'LOGOUT', T0)!;
    const recent = end(aSession({ now: at(10 * DAY) }), 'ADMIN', at(10 * DAY))!;
    const active = aSession();
    add(old, recent, active);
    clock.set(at(30 * DAY));
    await expect(purge.execute()).resolves.toBe(0); // exactly the retention: kept
    clock.set(at(30 * DAY + 1));
    await expect(purge.execute()).resolves.toBe(1);
    expect(sessions.sessions.has(old.id)).toBe(false);
    expect(sessions.sessions.has(recent.id)).toBe(true);
    expect(sessions.sessions.has(active.id)).toBe(true);
  });

  it('works through more sessions than one batch, and stops at maxBatches', async () => {
    const { sessions, clock, purge, add } = setup(2);
    add(...Array.from({ length: 7 }, () => end(aSession(), 'LOGOUT', T0)!));
    clock.set(at(31 * DAY));
    await expect(sweepInBatches(() => purge.execute(), 2, 2)).resolves.toBe(4);
    await expect(sweepInBatches(() => purge.execute(), 2)).resolves.toBe(3);
    expect(sessions.sessions.size).toBe(0);
  });

  it('refuses missing dependencies at wiring time', () => {
    expect(
      () =>
        new PurgeEndedSessionsHandler({
          sessions: undefined as never,
          clock: new FixedClock(T0),
          retentionMs: DAY,
          batchSize: 1,
        }),
    ).toThrow(/needs sessions/);
  });
});
