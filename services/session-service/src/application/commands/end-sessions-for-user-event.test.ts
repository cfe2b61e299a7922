import { describe, expect, it } from 'vitest';
import { aSession, aUserId, MINUTE, T0 } from '../../../test/support/mothers.js';
import { FixedClock } from '../../adapters/memory/fixed-clock.js';
import { MemorySessionRepository } from '../../adapters/memory/memory-session-repository.js';
import { EndSessionsForUserEventHandler } from './end-sessions-for-user-event.js';

function setup() {
  const sessions = new MemorySessionRepository();
  const clock = new FixedClock(new Date(T0.getTime() + MINUTE));
  const userId = aUserId();
  const own = [aSession({ userId }), aSession({ userId })];
  for (const s of [...own, aSession()]) sessions.sessions.set(s.id, s);
  return {
    sessions,
    userId,
    own,
    handler: new EndSessionsForUserEventHandler({ sessions, clock }),
  };
}

describe('EndSessionsForUserEvent', () => {
  it('ends the user’s sessions with the event’s reason, and only theirs', async () => {
    const { sessions, userId, handler } = setup();
    await expect(
      handler.execute({ userId, reason: 'USER_DISABLED', inbox: { consumer: 'c', eventId: 'e1' } }),
    ).resolves.toBe(2);
    expect(sessions.eventsOf('ended').map((s) => [s.userId, s.endReason])).toEqual([
      [userId, 'USER_DISABLED'],
      [userId, 'USER_DISABLED'],
    ]);
  });

  it('applies an event once however often it is delivered', async () => {
    const { sessions, userId, handler } = setup();
    const command = {
      userId,
      reason: 'USER_DELETED' as const,
      inbox: { consumer: 'c', eventId: 'e1' },
    };
    await handler.execute(command);
    await expect(handler.execute(command)).resolves.toBeUndefined();
    expect(sessions.eventsOf('ended')).toHaveLength(2);
  });

  it('keeps the session that changed the password', async () => {
    const { sessions, userId, own, handler } = setup();
    await handler.execute({
      userId,
      reason: 'PASSWORD_CHANGED',
      exceptSessionId: own[0]!.id,
      inbox: { consumer: 'c', eventId: 'e2' },
    });
    expect(sessions.sessions.get(own[0]!.id)!.status).toBe('ACTIVE');
    expect(sessions.sessions.get(own[1]!.id)).toMatchObject({
      status: 'ENDED',
      endReason: 'PASSWORD_CHANGED',
    });
  });
});
