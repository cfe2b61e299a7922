import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppError } from '@warden/errors';
import type { MfaChallengeStore, SessionRepository } from '../../src/application/ports.js';
import { newChallenge } from '../../src/domain/mfa-challenge.js';
import type { SessionChange } from '../../src/domain/session-events.js';
import {
  authenticatedWith,
  end,
  expire,
  rotate,
  touch,
  type Session,
} from '../../src/domain/session.js';
import { makeRoomForOneMore } from '../../src/domain/user-sessions.js';
import { aSession, aUserId, HOUR, MINUTE, T0 } from './mothers.js';

export interface RepositoryFixture {
  sessions: SessionRepository;
  /** The challenges `consumeChallenge` spends (the same database / memory). */
  challenges: MfaChallengeStore;
  /** The events written with the changes (outbox), oldest first. */
  events(): Promise<Array<{ kind: string; sessionId: string }>>;
}

const at = (ms: number) => new Date(T0.getTime() + ms);
const started = (session: Session): SessionChange => ({ session, event: 'started' });

/** One contract, run against the memory and the Prisma adapter. */
export function sessionRepositoryContract(
  name: string,
  fixture: () => Promise<RepositoryFixture>,
): void {
  describe(`SessionRepository contract: ${name}`, () => {
    async function withSessions(...list: Session[]) {
      const f = await fixture();
      for (const session of list)
        await f.sessions.updateUserSessions(session.userId, () => [started(session)]);
      return f;
    }

    it('stores started sessions with their events and finds them by id and token hash', async () => {
      const session = aSession();
      const { sessions, events } = await withSessions(session);
      expect(await sessions.findById(session.id)).toEqual(session);
      expect(await sessions.findByTokenHash(session.tokenHash)).toEqual(session);
      expect(await events()).toEqual([{ kind: 'started', sessionId: session.id }]);
    });

    it('keeps how a session was authenticated: a second factor makes it AAL2', async () => {
      const password = aSession();
      const totp = { ...aSession(), ...authenticatedWith('TOTP') };
      const recovery = { ...aSession(), ...authenticatedWith('RECOVERY_CODE') };
      const { sessions } = await withSessions(password, totp, recovery);
      expect(await sessions.findById(password.id)).toMatchObject({
        factors: ['PASSWORD'],
        assuranceLevel: 'AAL1',
      });
      expect(await sessions.findByTokenHash(totp.tokenHash)).toMatchObject({
        factors: ['PASSWORD', 'TOTP'],
        assuranceLevel: 'AAL2',
      });
      expect(await sessions.findById(recovery.id)).toEqual(recovery);
    });

    describe('consuming an MFA challenge with the session it makes (CompleteMfa)', () => {
      async function withChallenge() {
        const f = await fixture();
        const userId = aUserId();
        const client = { ipAddress: '203.0.113.4', userAgent: 'Consume/1.0' };
        const { challenge } = newChallenge({ userId, client, now: T0 });
        await f.challenges.add(challenge);
        const live = () => f.challenges.attempt(challenge.idHash, at(MINUTE), 99);
        return { ...f, userId, idHash: challenge.idHash, live };
      }
      const reasonOf = (promise: Promise<unknown>) =>
        promise.then(
          () => 'saved',
          (e: AppError) => e.reason ?? e.message,
        );

      it('saves the session and deletes the challenge together', async () => {
        const f = await withChallenge();
        const session = aSession({ userId: f.userId });
        await f.sessions.updateUserSessions(f.userId, () => [started(session)], {
          consumeChallenge: f.idHash,
        });
        expect(await f.sessions.findById(session.id)).toEqual(session);
        expect(await f.live()).toBeUndefined();
      });

      it('keeps the challenge when the write dies before it is saved: neither happened', async () => {
        const f = await withChallenge();
        const session = aSession({ userId: f.userId });
        const died = f.sessions.updateUserSessions(
          f.userId,
          () => {
            throw new Error('process died mid-write');
          },
          { consumeChallenge: f.idHash },
        );
        await expect(died).rejects.toThrow('process died mid-write');
        expect(await f.live()).toMatchObject({ userId: f.userId });
        expect(await f.events()).toEqual([]);
        // The retry finds the challenge and spends it then.
        await f.sessions.updateUserSessions(f.userId, () => [started(session)], {
          consumeChallenge: f.idHash,
        });
        expect(await f.sessions.findById(session.id)).toEqual(session);
        expect(await f.live()).toBeUndefined();
      });

      it('refuses a challenge already spent or unknown: MFA_CHALLENGE_NOT_FOUND, nothing saved', async () => {
        const f = await withChallenge();
        const first = aSession({ userId: f.userId });
        await f.sessions.updateUserSessions(f.userId, () => [started(first)], {
          consumeChallenge: f.idHash,
        });
        const second = aSession({ userId: f.userId });
        for (const idHash of [f.idHash, 'f'.repeat(64)])
          expect(
            await reasonOf(
              f.sessions.updateUserSessions(f.userId, () => [started(second)], {
                consumeChallenge: idHash,
              }),
            ),
          ).toBe('MFA_CHALLENGE_NOT_FOUND');
        expect(await f.sessions.findById(second.id)).toBeUndefined();
        expect(await f.events()).toEqual([{ kind: 'started', sessionId: first.id }]);
      });

      it('gives two writes racing on one challenge one session', async () => {
        const f = await withChallenge();
        const [a, b] = [aSession({ userId: f.userId }), aSession({ userId: f.userId })];
        const outcomes = await Promise.all(
          [a, b].map((session) =>
            reasonOf(
              f.sessions.updateUserSessions(f.userId, () => [started(session)], {
                consumeChallenge: f.idHash,
              }),
            ),
          ),
        );
        expect(outcomes.sort()).toEqual(['MFA_CHALLENGE_NOT_FOUND', 'saved']);
        const saved = [await f.sessions.findById(a.id), await f.sessions.findById(b.id)];
        expect(saved.filter(Boolean)).toHaveLength(1);
      });
    });

    it('links a started session to the request that started it; a re-run request points at its newer one', async () => {
      const f = await fixture();
      const first = aSession();
      const request = `start-request-${randomUUID()}`;
      await f.sessions.updateUserSessions(first.userId, () => [started(first)], {
        startRequest: request,
      });
      expect(await f.sessions.findByStartRequest(request)).toEqual(first);
      expect(await f.sessions.findByStartRequest(`${request}-other`)).toBeUndefined();
      const second = aSession({ userId: first.userId });
      await f.sessions.updateUserSessions(first.userId, () => [started(second)], {
        startRequest: request,
      });
      expect((await f.sessions.findByStartRequest(request))?.id).toBe(second.id);
      // Without a started session there is nothing to link.
      await f.sessions.updateUserSessions(first.userId, () => [], { startRequest: 'nothing' });
      expect(await f.sessions.findByStartRequest('nothing')).toBeUndefined();
    });

    it('finds nothing for unknown or malformed ids and hashes', async () => {
      const { sessions } = await withSessions(aSession());
      expect(await sessions.findById(randomUUID())).toBeUndefined();
      expect(await sessions.findById('not-a-uuid')).toBeUndefined();
      expect(await sessions.findByTokenHash('0'.repeat(64))).toBeUndefined();
      expect(await sessions.findByRotatedTokenHash('0'.repeat(64))).toBeUndefined();
      expect(await sessions.update(randomUUID(), () => undefined)).toBeUndefined();
      expect(await sessions.listActive('not-a-uuid', T0, 10)).toEqual([]);
    });

    it('updates a session and writes its event; no change writes nothing', async () => {
      const session = aSession();
      const { sessions, events } = await withSessions(session);
      expect(await sessions.update(session.id, () => undefined)).toEqual(session);
      const ended = end(session, 'LOGOUT', at(MINUTE))!;
      expect(await sessions.update(session.id, () => ({ session: ended, event: 'ended' }))).toEqual(
        ended,
      );
      expect(await sessions.findById(session.id)).toEqual(ended);
      expect((await events()).map((e) => e.kind)).toEqual(['started', 'ended']);
    });

    it('rolls back when the change throws', async () => {
      const session = aSession();
      const { sessions, events } = await withSessions(session);
      await expect(
        sessions.update(session.id, () => {
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await sessions.findById(session.id)).toEqual(session);
      expect(await events()).toHaveLength(1);
    });

    it('remembers a rotated-out token hash and forgets it as a current one', async () => {
      const session = aSession();
      const { sessions } = await withSessions(session);
      const rotated = rotate(session, 'f'.repeat(64), at(MINUTE), 30 * MINUTE);
      await sessions.update(session.id, () => ({
        session: rotated,
        event: 'refreshed',
        rotatedTokenHash: session.tokenHash,
      }));
      expect(await sessions.findByTokenHash(session.tokenHash)).toBeUndefined();
      expect(await sessions.findByTokenHash('f'.repeat(64))).toEqual(rotated);
      expect(await sessions.findByRotatedTokenHash(session.tokenHash)).toEqual(rotated);
    });

    it('lists a user’s active sessions newest first, by keyset pages', async () => {
      const userId = aUserId();
      const list = [0, 1, 2, 3].map((m) => aSession({ userId, now: at(m * MINUTE) }));
      const other = aSession();
      const { sessions } = await withSessions(...list, other);
      await sessions.update(list[1]!.id, (s) => ({
        session: end(s, 'LOGOUT', at(5 * MINUTE))!,
        event: 'ended',
      }));
      const now = at(5 * MINUTE);
      const first = await sessions.listActive(userId, now, 2);
      expect(first.map((s) => s.id)).toEqual([list[3]!.id, list[2]!.id]);
      const rest = await sessions.listActive(userId, now, 2, {
        createTime: first[1]!.createTime,
        id: first[1]!.id,
      });
      expect(rest.map((s) => s.id)).toEqual([list[0]!.id]);
      expect(await sessions.listActive(userId, at(31 * MINUTE), 10)).toHaveLength(2);
      expect(await sessions.listActive(userId, at(33 * MINUTE + 1), 10)).toHaveLength(0);
    });

    it('orders sessions started in the same millisecond by id', async () => {
      const userId = aUserId();
      const list = [aSession({ userId }), aSession({ userId }), aSession({ userId })];
      const { sessions } = await withSessions(...list);
      const ids = list
        .map((s) => s.id)
        .sort()
        .reverse();
      const page = await sessions.listActive(userId, at(MINUTE), 2);
      expect(page.map((s) => s.id)).toEqual(ids.slice(0, 2));
      const next = await sessions.listActive(userId, at(MINUTE), 2, {
        createTime: page[1]!.createTime,
        id: page[1]!.id,
      });
      expect(next.map((s) => s.id)).toEqual(ids.slice(2));
    });

    it('ends and adds a user’s sessions in one write, serializing concurrent writers per user', async () => {
      const userId = aUserId();
      const { sessions } = await withSessions();
      const startOne = (minute: number) => {
        const session = aSession({ userId, now: at(minute) });
        return sessions.updateUserSessions(userId, (active) => [
          ...makeRoomForOneMore(active, at(minute), 2),
          started(session),
        ]);
      };
      await Promise.all([1, 2, 3, 4, 5].map(startOne));
      expect(await sessions.listActive(userId, at(MINUTE), 10)).toHaveLength(2);
    });

    it('applies an inbox event once', async () => {
      const session = aSession();
      const { sessions, events } = await withSessions(session);
      const inbox = { consumer: 'test-consumer', eventId: randomUUID() };
      const endAll = (active: Session[]) =>
        active.map((s) => ({
          session: end(s, 'USER_DISABLED', at(MINUTE))!,
          event: 'ended' as const,
        }));
      expect(await sessions.updateUserSessions(session.userId, endAll, { inbox })).toHaveLength(1);
      expect(await sessions.updateUserSessions(session.userId, endAll, { inbox })).toBeUndefined();
      expect((await events()).map((e) => e.kind)).toEqual(['started', 'ended']);
    });

    it("with eraseUser, blanks the client data of all the user's sessions, whatever their status, and only theirs", async () => {
      const userId = aUserId();
      const [live, stopped, other] = [aSession({ userId }), aSession({ userId }), aSession()];
      const { sessions } = await withSessions(live, stopped, other);
      await sessions.update(stopped.id, (s) => ({
        session: end(s, 'LOGOUT', at(MINUTE))!,
        event: 'ended',
      }));
      const endAll = (active: Session[]) =>
        active.map((s) => ({
          session: end(s, 'USER_DELETED', at(MINUTE))!,
          event: 'ended' as const,
        }));
      const inbox = { consumer: 'test-consumer', eventId: randomUUID() };
      expect(
        await sessions.updateUserSessions(userId, endAll, { inbox, eraseUser: true }),
      ).toHaveLength(1);
      const blank = { ipAddress: '', userAgent: '' };
      expect(await sessions.findById(live.id)).toMatchObject({ status: 'ENDED', client: blank });
      expect(await sessions.findById(stopped.id)).toMatchObject({ status: 'ENDED', client: blank });
      expect((await sessions.findById(other.id))!.client).toEqual(other.client);
    });

    it('records activity forward only, and only on active sessions', async () => {
      const [live, stopped] = [aSession(), aSession()];
      const { sessions } = await withSessions(live, stopped);
      await sessions.update(stopped.id, (s) => ({
        session: end(s, 'LOGOUT', at(MINUTE))!,
        event: 'ended',
      }));
      const later = touch(live, at(10 * MINUTE), 30 * MINUTE);
      await sessions.recordActivity([
        {
          sessionId: live.id,
          lastSeenTime: later.lastSeenTime,
          idleExpireTime: later.idleExpireTime,
        },
        { sessionId: stopped.id, lastSeenTime: at(10 * MINUTE), idleExpireTime: at(40 * MINUTE) },
        { sessionId: randomUUID(), lastSeenTime: at(10 * MINUTE), idleExpireTime: at(40 * MINUTE) },
      ]);
      await sessions.recordActivity([
        { sessionId: live.id, lastSeenTime: at(5 * MINUTE), idleExpireTime: at(35 * MINUTE) },
      ]);
      expect(await sessions.findById(live.id)).toMatchObject({
        lastSeenTime: at(10 * MINUTE),
        idleExpireTime: at(40 * MINUTE),
      });
      expect((await sessions.findById(stopped.id))!.lastSeenTime).toEqual(T0);
    });

    it('expires due sessions in batches with their events', async () => {
      const idle = aSession();
      const fresh = aSession({ now: at(HOUR) });
      const { sessions, events } = await withSessions(idle, fresh, aSession(), aSession());
      const now = at(HOUR + MINUTE);
      const apply = (s: Session) => {
        const expired = expire(s, now);
        return expired && { session: expired, event: 'expired' as const };
      };
      expect(await sessions.expireDue(now, now, 2, apply)).toHaveLength(2);
      expect(await sessions.expireDue(now, now, 2, apply)).toHaveLength(1);
      expect(await sessions.expireDue(now, now, 2, apply)).toHaveLength(0);
      expect(await sessions.findById(idle.id)).toMatchObject({
        status: 'EXPIRED',
        endReason: 'IDLE_TIMEOUT',
        endTime: idle.idleExpireTime,
      });
      expect((await sessions.findById(fresh.id))!.status).toBe('ACTIVE');
      expect((await events()).filter((e) => e.kind === 'expired')).toHaveLength(3);
    });

    it('applies concurrent changes to one session one after another, losing none', async () => {
      const session = aSession();
      const { sessions, events } = await withSessions(session);
      const hashes = ['1', '2', '3', '4', '5', '6'].map((digit) => digit.repeat(64));
      await Promise.all(
        hashes.map((hash, i) =>
          sessions.update(session.id, (stored) => ({
            session: rotate(stored, hash, at(MINUTE + i), 30 * MINUTE),
            event: 'refreshed',
            rotatedTokenHash: stored.tokenHash,
          })),
        ),
      );
      // Each refresh replaced the token the one before it left: every token but the last is a
      // rotated one of this session (a lost update would have rotated one token twice).
      const final = (await sessions.findById(session.id))!;
      expect(hashes).toContain(final.tokenHash);
      for (const hash of [session.tokenHash, ...hashes].filter((h) => h !== final.tokenHash))
        expect((await sessions.findByRotatedTokenHash(hash))?.id).toBe(session.id);
      expect((await events()).filter((e) => e.kind === 'refreshed')).toHaveLength(6);
    });

    it('purges sessions that ended before the cutoff, with their rotated tokens, in batches', async () => {
      const refreshed = aSession();
      const loggedOut = aSession();
      const expired = aSession();
      const recent = aSession({ now: at(3 * HOUR - MINUTE) });
      const active = aSession();
      const f = await withSessions(refreshed, loggedOut, expired, recent, active);
      const { sessions } = f;
      const rotated = rotate(refreshed, 'e'.repeat(64), at(MINUTE), 30 * MINUTE);
      await sessions.update(refreshed.id, () => ({
        session: rotated,
        event: 'refreshed',
        rotatedTokenHash: refreshed.tokenHash,
      }));
      const endAt = (session: Session, ms: number) =>
        sessions.update(session.id, (s) => ({
          session: end(s, 'LOGOUT', at(ms))!,
          event: 'ended',
        }));
      await endAt(refreshed, 2 * MINUTE);
      await endAt(loggedOut, 3 * MINUTE);
      await sessions.expireDue(at(HOUR), at(HOUR), 10, (s) =>
        s.id === expired.id ? { session: expire(s, at(HOUR))!, event: 'expired' } : undefined,
      );
      await endAt(recent, 3 * HOUR);

      const cutoff = at(2 * HOUR);
      expect(await sessions.purgeEnded(cutoff, 2)).toBe(2); // the two that ended first
      expect(await sessions.findById(refreshed.id)).toBeUndefined();
      expect(await sessions.findByRotatedTokenHash(refreshed.tokenHash)).toBeUndefined();
      expect(await sessions.findById(loggedOut.id)).toBeUndefined();
      expect(await sessions.purgeEnded(cutoff, 2)).toBe(1);
      expect(await sessions.findById(expired.id)).toBeUndefined();
      expect(await sessions.purgeEnded(cutoff, 2)).toBe(0);
      expect((await sessions.findById(recent.id))!.status).toBe('ENDED');
      expect((await sessions.findById(active.id))!.status).toBe('ACTIVE');
    });
  });
}
