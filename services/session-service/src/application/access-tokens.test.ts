import type { UseCase } from '@warden/bus';
import { describe, expect, it } from 'vitest';
import { FixedClock } from '../../test/support/fixed-clock.js';
import { aServiceContext, aSession, MINUTE } from '../../test/support/mothers.js';
import { end, type Session } from '../domain/session.js';
import { withAccessToken, type AccessTokenIssuer } from './access-tokens.js';

/**
 * Attack: mint access tokens for an ended session by replaying a sign-in. A request_id replay of
 * StartSession (the password in hand) answers the stored session; the access token was signed
 * afresh for it whatever had happened since, so a session ended by "log out everywhere" (or one
 * started before the user turned MFA on) got new 5-minute tokens for 24 h, which a gateway
 * honours once the end is older than a token lifetime.
 */
describe('withAccessToken', () => {
  const clock = new FixedClock();
  const issued: string[] = [];
  const issuer: AccessTokenIssuer = {
    issue: async (session) => {
      issued.push(session.id);
      return {
        token: `jwt-for-${session.id}`,
        expireTime: new Date(clock.now().getTime() + 5 * MINUTE),
      };
    },
    publicKeys: () => [],
  };
  /** What the sessions table says now. */
  const table = new Map<string, Session>();
  /** A use case answering a stored result, as an idempotent replay does. */
  const replaying = (stored: Session): UseCase<unknown, { session: Session; token: string }> => ({
    name: 'StartSession',
    access: { kind: 'service' },
    execute: async () => ({ session: stored, token: 'wst_stored' }),
  });
  const wrapped = (stored: Session) =>
    withAccessToken(replaying(stored), issuer, {
      sessions: { findById: async (id) => table.get(id) },
      clock,
    });

  it('signs a token for a session that is active now', async () => {
    const session = aSession({ now: clock.now() });
    table.set(session.id, session);
    const out = await wrapped(session).execute({}, aServiceContext());
    expect(out.accessToken?.token).toBe(`jwt-for-${session.id}`);
  });

  it('signs none for a stored session that has ended, expired or gone since', async () => {
    const ended = aSession({ now: clock.now() });
    table.set(ended.id, end(ended, 'LOGOUT', clock.now())!);
    const expired = aSession({ now: new Date(clock.now().getTime() - 400 * 24 * 60 * MINUTE) });
    table.set(expired.id, expired);
    const gone = aSession({ now: clock.now() });
    const before = issued.length;
    for (const stored of [ended, expired, gone]) {
      const out = await wrapped(stored).execute({}, aServiceContext());
      expect(out.accessToken).toBeUndefined();
      expect(out.token).toBe('wst_stored');
    }
    expect(issued.length).toBe(before);
  });
});
