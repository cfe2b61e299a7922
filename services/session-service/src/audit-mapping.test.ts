import { describe, expect, it } from 'vitest';
import { aSession, aToken } from '../test/support/mothers.js';
import { sessionAuditOf } from './audit-mapping.js';
import { hashToken } from './domain/session-token.js';
import type { SessionEventKind } from './domain/session-events.js';

describe('sessionAuditOf', () => {
  const token = aToken();
  const session = aSession({ token, factors: ['PASSWORD', 'TOTP'], assuranceLevel: 'AAL2' });

  it.each<[SessionEventKind, string]>([
    ['started', 'session.started'],
    ['refreshed', 'session.refreshed'],
    ['ended', 'session.ended'],
    ['expired', 'session.expired'],
  ])('records %s as %s on the session, naming its user', (kind, action) => {
    const facts = sessionAuditOf(kind, session);
    expect(facts.action).toBe(action);
    expect(facts.target).toEqual({ type: 'session', id: session.id });
    expect(facts.details?.user_id).toBe(session.userId);
  });

  it('says how a started session was authenticated', () => {
    expect(sessionAuditOf('started', session).details).toEqual({
      user_id: session.userId,
      assurance_level: 'AAL2',
      factors: 'PASSWORD,TOTP',
    });
  });

  it('gives the end reason of an ended or expired session', () => {
    const ended = { ...session, status: 'ENDED' as const, endReason: 'ADMIN' as const };
    expect(sessionAuditOf('ended', ended).reason).toBe('ADMIN');
    const idle = { ...session, status: 'EXPIRED' as const, endReason: 'IDLE_TIMEOUT' as const };
    expect(sessionAuditOf('expired', idle).reason).toBe('IDLE_TIMEOUT');
  });

  it('never carries the token, its hash, or the client IP and user agent', () => {
    const all = JSON.stringify(
      (['started', 'refreshed', 'ended', 'expired'] as const).map((k) =>
        sessionAuditOf(k, session),
      ),
    );
    for (const secret of [token, session.tokenHash, hashToken(token), '203.0.113.7', 'test-agent'])
      expect(all).not.toContain(secret);
  });
});
