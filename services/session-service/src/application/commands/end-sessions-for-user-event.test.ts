import { describe, expect, it } from 'vitest';
import { aSession, aUserId, MINUTE, T0 } from '../../../test/support/mothers.js';
import { FixedClock } from '../../../test/support/fixed-clock.js';
import { MemoryMfaChallengeStore } from '../../adapters/memory/memory-mfa-challenge-store.js';
import { MemorySessionRepository } from '../../adapters/memory/memory-session-repository.js';
import { newChallenge } from '../../domain/mfa-challenge.js';
import { authenticatedWith } from '../../domain/session.js';
import {
  CLOCK_SKEW_ALLOWANCE_MS,
  EndSessionsForUserEventHandler,
  type EndSessionsForUserEvent,
} from './end-sessions-for-user-event.js';

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
    handler: new EndSessionsForUserEventHandler({
      sessions,
      challenges: new MemoryMfaChallengeStore(),
      clock,
    }),
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

  it("erases the client data of all the user's sessions on deletion, not on the other reasons", async () => {
    const { sessions, userId, own, handler } = setup();
    const other = aSession();
    sessions.sessions.set(other.id, other);
    await handler.execute({
      userId,
      reason: 'USER_DISABLED',
      inbox: { consumer: 'c', eventId: 'e0' },
    });
    expect(sessions.sessions.get(own[0]!.id)!.client).toEqual(own[0]!.client);
    await handler.execute({
      userId,
      reason: 'USER_DELETED',
      inbox: { consumer: 'c', eventId: 'e1' },
    });
    for (const session of own)
      expect(sessions.sessions.get(session.id)!.client).toEqual({ ipAddress: '', userAgent: '' });
    expect(sessions.sessions.get(other.id)!.client).toEqual(other.client);
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

  describe('a second factor turned on (MFA_ENABLED, from ConfirmTotp)', () => {
    function mfaSetup() {
      const { sessions, userId, own, handler } = setup();
      const aal2 = [
        aSession({ userId, ...authenticatedWith('TOTP') }),
        aSession({ userId, ...authenticatedWith('RECOVERY_CODE') }),
      ];
      for (const s of aal2) sessions.sessions.set(s.id, s);
      return { sessions, userId, own, aal2, handler };
    }

    it('ends the AAL1 sessions but the one that confirmed it; AAL2 sessions stay', async () => {
      const { sessions, userId, own, aal2, handler } = mfaSetup();
      const confirming = own[0]!;
      await expect(
        handler.execute({
          userId,
          reason: 'MFA_ENABLED',
          exceptSessionId: confirming.id,
          occurredAt: T0,
          inbox: { consumer: 'c', eventId: 'mfa-1' },
        }),
      ).resolves.toBe(1);
      expect(sessions.sessions.get(own[1]!.id)).toMatchObject({
        status: 'ENDED',
        endReason: 'MFA_ENABLED',
      });
      // Kept as it was: still AAL1, its factors unchanged.
      expect(sessions.sessions.get(confirming.id)).toEqual(confirming);
      for (const s of aal2) expect(sessions.sessions.get(s.id)).toEqual(s);
      expect(sessions.eventsOf('ended').map((s) => s.id)).toEqual([own[1]!.id]);
    });

    it('keeps none of the AAL1 sessions when an administrator confirmed it (no except id)', async () => {
      const { sessions, userId, own, aal2, handler } = mfaSetup();
      await handler.execute({
        userId,
        reason: 'MFA_ENABLED',
        occurredAt: T0,
        inbox: { consumer: 'c', eventId: 'mfa-2' },
      });
      for (const s of own) expect(sessions.sessions.get(s.id)!.endReason).toBe('MFA_ENABLED');
      for (const s of aal2) expect(sessions.sessions.get(s.id)!.status).toBe('ACTIVE');
    });

    it('applies once, and leaves pending challenges (each still needs CompleteMfa)', async () => {
      const { sessions, userId, handler } = mfaSetup();
      const challenges = new MemoryMfaChallengeStore();
      const pending = newChallenge({ userId, client: { ipAddress: '', userAgent: '' }, now: T0 });
      await challenges.add(pending.challenge);
      const withChallenges = new EndSessionsForUserEventHandler({
        sessions,
        challenges,
        clock: new FixedClock(new Date(T0.getTime() + MINUTE)),
      });
      const event = {
        userId,
        reason: 'MFA_ENABLED' as const,
        occurredAt: T0,
        inbox: { consumer: 'c', eventId: 'mfa-3' },
      };
      await expect(withChallenges.execute(event)).resolves.toBe(2);
      await expect(withChallenges.execute(event)).resolves.toBeUndefined();
      await expect(handler.execute(event)).resolves.toBeUndefined();
      expect([...challenges.challenges.keys()]).toEqual([pending.challenge.idHash]);
    });
  });

  describe('an event applied late (after an outage)', () => {
    // The event happened at T0 + 1 min; it is applied at T0 + 10 min.
    const occurredAt = new Date(T0.getTime() + MINUTE);
    function lateSetup() {
      const sessions = new MemorySessionRepository();
      const userId = aUserId();
      const before = aSession({ userId, now: T0 });
      const withinSkew = aSession({ userId, now: new Date(occurredAt.getTime() + 20_000) });
      const after = aSession({ userId, now: new Date(T0.getTime() + 5 * MINUTE) });
      for (const s of [before, withinSkew, after]) sessions.sessions.set(s.id, s);
      const clock = new FixedClock(new Date(T0.getTime() + 10 * MINUTE));
      const handler = new EndSessionsForUserEventHandler({
        sessions,
        challenges: new MemoryMfaChallengeStore(),
        clock,
      });
      /** The user event, applied now; a deletion carries no occurredAt. */
      const applyLate = (reason: EndSessionsForUserEvent['reason'], eventId: string) =>
        handler.execute({
          userId,
          reason,
          ...(reason === 'USER_DELETED' ? {} : { occurredAt }),
          inbox: { consumer: 'c', eventId },
        });
      return { sessions, before, withinSkew, after, applyLate };
    }
    const statusOf = (sessions: MemorySessionRepository, id: string) =>
      sessions.sessions.get(id)!.status;

    it('a password change spares a session signed in to after it', async () => {
      const { sessions, before, withinSkew, after, applyLate } = lateSetup();
      await applyLate('PASSWORD_CHANGED', 'late-1');
      expect(statusOf(sessions, before.id)).toBe('ENDED');
      // Within the clock-skew allowance the event's service may have been behind: ended.
      expect(statusOf(sessions, withinSkew.id)).toBe('ENDED');
      expect(statusOf(sessions, after.id)).toBe('ACTIVE');
      expect(CLOCK_SKEW_ALLOWANCE_MS).toBeGreaterThan(20_000);
    });

    it('MFA turned on spares an AAL1 session signed in to after it (MFA removed again since)', async () => {
      const { sessions, before, after, applyLate } = lateSetup();
      await applyLate('MFA_ENABLED', 'late-4');
      expect(sessions.sessions.get(before.id)).toMatchObject({
        status: 'ENDED',
        endReason: 'MFA_ENABLED',
      });
      expect(statusOf(sessions, after.id)).toBe('ACTIVE');
    });

    it('disabling spares a session of a user enabled again and signed in since', async () => {
      const { sessions, before, after, applyLate } = lateSetup();
      await applyLate('USER_DISABLED', 'late-2');
      expect(statusOf(sessions, before.id)).toBe('ENDED');
      expect(statusOf(sessions, after.id)).toBe('ACTIVE');
    });

    it('a deletion (no occurredAt) ends every session, however recent', async () => {
      const { sessions, before, withinSkew, after, applyLate } = lateSetup();
      await applyLate('USER_DELETED', 'late-3');
      for (const s of [before, withinSkew, after]) expect(statusOf(sessions, s.id)).toBe('ENDED');
    });
  });
});

// Found by the account-journey e2e: a challenge started with the old password completed after
// ResetPassword and gave a live session.
describe('EndSessionsForUserEvent and pending MFA challenges', () => {
  const client = { ipAddress: '203.0.113.7', userAgent: 'test' };
  const occurredAt = new Date(T0.getTime() + MINUTE);

  it('drops the challenges a password change or disabling makes stale, not later ones or others', async () => {
    for (const reason of ['PASSWORD_CHANGED', 'USER_DISABLED'] as const) {
      const challenges = new MemoryMfaChallengeStore();
      const userId = aUserId();
      const stale = newChallenge({ userId, client, now: T0 }).challenge;
      const later = newChallenge({
        userId,
        client,
        now: new Date(T0.getTime() + 5 * MINUTE),
      }).challenge;
      const someoneElse = newChallenge({ userId: aUserId(), client, now: T0 }).challenge;
      for (const c of [stale, later, someoneElse]) await challenges.add(c);
      const handler = new EndSessionsForUserEventHandler({
        sessions: new MemorySessionRepository(),
        challenges,
        clock: new FixedClock(new Date(T0.getTime() + 10 * MINUTE)),
      });
      const event = { userId, reason, occurredAt, inbox: { consumer: 'c', eventId: reason } };
      await handler.execute(event);
      await handler.execute(event); // redelivered: still nothing stale left, nothing else gone
      expect([...challenges.challenges.keys()].sort()).toEqual(
        [later.idHash, someoneElse.idHash].sort(),
      );
    }
  });
});
