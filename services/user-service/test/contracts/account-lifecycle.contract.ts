import { beforeEach, describe, expect, it } from 'vitest';
import type {
  OneTimeCodeStore,
  UserDirectory,
  UserRepository,
} from '../../src/application/ports.js';
import { randomOneTimeCodes } from '../../src/adapters/crypto/one-time-codes.js';
import { MAX_CODE_ATTEMPTS } from '../../src/domain/one-time-code.js';
import {
  registerUser,
  resetPassword,
  updateProfile,
  verifyEmail,
  type User,
} from '../../src/domain/user.js';
import { aUser } from '../support/mothers.js';

export interface LifecycleAdapters {
  users: UserRepository;
  directory: UserDirectory;
  codes: OneTimeCodeStore;
  /** What went to the outbox, oldest first. */
  recordedEvents(): Promise<Array<{ type: string; userId: string }>>;
}

const now = new Date('2026-04-01T08:00:00.123Z');
const later = (ms: number) => new Date(now.getTime() + ms);

const imported = (overrides: Partial<User> = {}) => {
  const user = aUser(overrides);
  return registerUser({
    ...user,
    now: user.createTime,
    imported: {
      emailVerified: user.emailVerified,
      externalId: user.externalId,
      metadata: { ...user.metadata },
    },
  });
};

/**
 * What the account-lifecycle storage must do (codes, bulk import, profile fields, filters), run
 * against the memory twin and against Postgres. `fresh` returns adapters over empty storage.
 */
export function describeAccountLifecycleContract(
  name: string,
  fresh: () => Promise<LifecycleAdapters>,
): void {
  describe(`account lifecycle storage: ${name}`, () => {
    let store: LifecycleAdapters;
    beforeEach(async () => {
      store = await fresh();
    });

    const issue = async (owner: { userId: string } | { email: string }, ttlMs = 60_000) => {
      const { code, codeHash } = randomOneTimeCodes.issue();
      const stored = await store.codes.issue(
        owner,
        'PASSWORD_RESET',
        { codeHash, expireTime: later(ttlMs) },
        now,
      );
      return { code, stored };
    };
    const redeem = (owner: { userId: string } | { email: string }, code: string, at = now) =>
      store.codes.redeem(owner, 'PASSWORD_RESET', randomOneTimeCodes.matcher(code), at, (user) =>
        resetPassword(user, 'new-hash', at),
      );

    it('stores a code for a known user or active email only, and redeems it once with its change and event', async () => {
      const { user } = imported();
      await store.users.add({ user, events: [] });
      expect((await issue({ email: 'nobody@example.com' })).stored).toBe(false);
      expect((await issue({ userId: aUser().id })).stored).toBe(false);
      const { code, stored } = await issue({ email: user.email });
      expect(stored).toBe(true);
      const first = await redeem({ email: user.email }, code);
      expect(first.verdict).toEqual({ kind: 'MATCH' });
      expect((await store.users.get(user.id))?.passwordHash).toBe('new-hash');
      expect(await store.recordedEvents()).toEqual([{ type: 'password_changed', userId: user.id }]);
      expect((await redeem({ email: user.email }, code)).verdict).toEqual({ kind: 'ABSENT' });
      expect(await store.recordedEvents()).toHaveLength(1);
    });

    it('lets one of many concurrent redemptions of a code through, once', async () => {
      const { user } = imported();
      await store.users.add({ user, events: [] });
      const { code } = await issue({ userId: user.id });
      const verdicts = await Promise.all(
        Array.from({ length: 8 }, () => redeem({ userId: user.id }, code)),
      );
      expect(verdicts.filter((v) => v.verdict.kind === 'MATCH')).toHaveLength(1);
      expect(verdicts.filter((v) => v.verdict.kind === 'ABSENT')).toHaveLength(7);
      expect(await store.recordedEvents()).toEqual([{ type: 'password_changed', userId: user.id }]);
    });

    it('gives no code to a disabled user by email', async () => {
      const user = aUser({ status: 'DISABLED' });
      await store.users.add({ user, events: [] });
      expect((await issue({ email: user.email })).stored).toBe(false);
    });

    it('counts wrong codes and burns the code at the fifth; an expired code goes', async () => {
      const { user } = imported();
      await store.users.add({ user, events: [] });
      const { code } = await issue({ userId: user.id });
      for (let i = 1; i < MAX_CODE_ATTEMPTS; i++)
        expect((await redeem({ userId: user.id }, 'wrong')).verdict).toEqual({
          kind: 'WRONG',
          burn: false,
          attempts: i,
        });
      expect((await redeem({ userId: user.id }, 'wrong')).verdict).toMatchObject({ burn: true });
      expect((await redeem({ userId: user.id }, code)).verdict).toEqual({ kind: 'ABSENT' });

      const fresh = await issue({ userId: user.id }, 1_000);
      expect((await redeem({ userId: user.id }, fresh.code, later(1_000))).verdict).toEqual({
        kind: 'EXPIRED',
      });
      expect((await redeem({ userId: user.id }, fresh.code)).verdict).toEqual({ kind: 'ABSENT' });
      expect((await store.users.get(user.id))?.passwordHash).toBe(user.passwordHash);
    });

    it('replaces a code by a new one, with its attempts reset', async () => {
      const { user } = imported();
      await store.users.add({ user, events: [] });
      const first = await issue({ userId: user.id });
      await redeem({ userId: user.id }, 'wrong');
      const second = await issue({ userId: user.id });
      expect((await redeem({ userId: user.id }, first.code)).verdict).toEqual({
        kind: 'WRONG',
        burn: false,
        attempts: 1,
      });
      expect((await redeem({ userId: user.id }, second.code)).verdict).toEqual({ kind: 'MATCH' });
    });

    it('saves email_verified, external_id and metadata through update and reads them back', async () => {
      const { user } = imported();
      await store.users.add({ user, events: [] });
      await store.users.update(user.id, (u) => verifyEmail(u, now));
      await store.users.update(user.id, (u) =>
        updateProfile(u, { externalId: 'crm-1', metadata: { 'public.a': '1', b: 'x' } }, now),
      );
      expect(await store.directory.find(user.id)).toMatchObject({
        emailVerified: true,
        externalId: 'crm-1',
        metadata: { 'public.a': '1', b: 'x' },
        mfaEnabled: false,
      });
      const other = imported().user;
      await store.users.add({ user: other, events: [] });
      await expect(
        store.users.update(other.id, (u) => updateProfile(u, { externalId: 'crm-1' }, now)),
      ).rejects.toMatchObject({ reason: 'EXTERNAL_ID_TAKEN' });
      await expect(store.users.add(imported({ externalId: 'crm-1' }))).rejects.toMatchObject({
        reason: 'EXTERNAL_ID_TAKEN',
      });
    });

    it('adds many users in one go, skipping taken emails and external ids, with events for the added only', async () => {
      const existing = imported({ email: 'taken@example.com', externalId: 'ext-1' });
      await store.users.add({ user: existing.user, events: [] });
      const batch = [
        imported({ emailVerified: true, metadata: { k: 'v' } }),
        imported({ email: 'taken@example.com' }),
        imported({ externalId: 'ext-1' }),
        imported({ externalId: 'ext-2' }),
      ];
      expect(await store.users.addMany(batch)).toEqual([
        'ADDED',
        'EMAIL_TAKEN',
        'EXTERNAL_ID_TAKEN',
        'ADDED',
      ]);
      expect(await store.directory.find(batch[0]!.user.id)).toMatchObject({
        emailVerified: true,
        metadata: { k: 'v' },
      });
      expect((await store.recordedEvents()).map((e) => e.userId)).toEqual([
        batch[0]!.user.id,
        batch[3]!.user.id,
      ]);
      expect(await store.users.addMany([])).toEqual([]);
    });

    it('lists by external id and by metadata pairs (all must hold), in (create_time, id) order after a cursor', async () => {
      const users = [
        aUser({ metadata: { plan: 'gold', region: 'eu' } }),
        aUser({ metadata: { plan: 'gold' } }),
        aUser({ metadata: { plan: 'free', region: 'eu' } }),
        aUser({ externalId: 'x-9', metadata: { plan: 'gold', region: 'eu' } }),
      ];
      for (const user of users) await store.users.add({ user, events: [] });
      const ids = async (filter: Parameters<UserDirectory['list']>[0], after?: User) =>
        (await store.directory.list(filter, after, 10)).map((u) => u.id);
      expect(await ids({ emailPrefix: '', externalId: 'x-9' })).toEqual([users[3]!.id]);
      expect(await ids({ emailPrefix: '', metadata: { plan: 'gold' } })).toEqual(
        [users[0]!, users[1]!, users[3]!].map((u) => u.id),
      );
      expect(await ids({ emailPrefix: '', metadata: { plan: 'gold', region: 'eu' } })).toEqual([
        users[0]!.id,
        users[3]!.id,
      ]);
      expect(
        await ids({ emailPrefix: '', metadata: { plan: 'gold', region: 'eu' } }, users[0]),
      ).toEqual([users[3]!.id]);
      expect(await ids({ emailPrefix: '', metadata: { plan: "gold'; --" } })).toEqual([]);
    });
  });
}
