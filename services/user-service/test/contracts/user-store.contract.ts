import type { IdempotencyStore } from '@warden/bus';
import { AppError } from '@warden/errors';
import { beforeEach, describe, expect, it } from 'vitest';
import type {
  LoginFailureStore,
  SignInLookup,
  UserDirectory,
  UserRepository,
} from '../../src/application/ports.js';
import { type FailureSlot } from '../../src/domain/login-failures.js';
import { disableUser, registerUser, renameUser, toView, type User } from '../../src/domain/user.js';
import { aUser } from '../support/mothers.js';

export interface UserStoreAdapters {
  users: UserRepository;
  directory: UserDirectory;
  loginFailures: LoginFailureStore;
  /** Over the same storage as users and loginFailures. */
  signIns: SignInLookup;
  idempotency: IdempotencyStore;
  /** What went to the outbox, oldest first. */
  recordedEvents(): Promise<Array<{ type: string; userId: string }>>;
}

const now = new Date('2026-04-01T08:00:00.123Z');
const policy = { maxFailures: 5, windowMs: 60_000 };

const registered = (overrides: Partial<User> = {}) => {
  const user = aUser(overrides);
  return registerUser({ ...user, now: user.createTime });
};

/**
 * The behaviour every user-service storage adapter must have, run against the memory twin and
 * against Postgres through Prisma. `fresh` returns adapters over empty storage.
 */
export function describeUserStoreContract(
  name: string,
  fresh: () => Promise<UserStoreAdapters>,
): void {
  describe(`user store contract: ${name}`, () => {
    let store: UserStoreAdapters;
    beforeEach(async () => {
      store = await fresh();
    });

    describe('UserRepository', () => {
      it('adds a user with its events, found by id and by email', async () => {
        const change = registered();
        await store.users.add(change);
        expect(await store.users.get(change.user.id)).toEqual(change.user);
        expect(await store.users.findByEmail(change.user.email)).toEqual(change.user);
        expect(await store.recordedEvents()).toEqual([
          { type: 'registered', userId: change.user.id },
        ]);
      });

      it('answers undefined for an unknown id or email', async () => {
        expect(await store.users.get(aUser().id)).toBeUndefined();
        expect(await store.users.findByEmail('nobody@example.com')).toBeUndefined();
      });

      it('refuses a second user with the same email as EMAIL_TAKEN and writes nothing', async () => {
        const first = registered({ email: 'same@example.com' });
        await store.users.add(first);
        const error = await store.users
          .add(registered({ email: 'same@example.com' }))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).reason).toBe('EMAIL_TAKEN');
        expect(await store.recordedEvents()).toHaveLength(1);
      });

      it('updates through the decision function and records its events with the state', async () => {
        const { user } = registered();
        await store.users.add({ user, events: [] });
        const updated = await store.users.update(user.id, (current) =>
          disableUser(current, 'test', now),
        );
        expect(updated).toMatchObject({ status: 'DISABLED', updateTime: now });
        expect(await store.users.get(user.id)).toEqual(updated);
        expect(await store.recordedEvents()).toEqual([{ type: 'disabled', userId: user.id }]);
      });

      it('saves nothing when the decision changes nothing', async () => {
        const user = aUser({ status: 'DISABLED' });
        await store.users.add({ user, events: [] });
        expect(
          await store.users.update(user.id, (current) => disableUser(current, 'again', now)),
        ).toEqual(user);
        expect(await store.recordedEvents()).toEqual([]);
      });

      it('saves nothing when the decision throws', async () => {
        const { user } = registered();
        await store.users.add({ user, events: [] });
        const refusal = new AppError('FAILED_PRECONDITION', 'NO', 'refused');
        await expect(
          store.users.update(user.id, () => {
            throw refusal;
          }),
        ).rejects.toBe(refusal);
        expect(await store.users.get(user.id)).toEqual(user);
      });

      it('applies concurrent updates one after the other', async () => {
        const { user } = registered({ displayName: '' });
        await store.users.add({ user, events: [] });
        await Promise.all(
          Array.from({ length: 8 }, () =>
            store.users.update(user.id, (current) =>
              renameUser(current, `${current.displayName}x`, now),
            ),
          ),
        );
        expect((await store.users.get(user.id))?.displayName).toBe('xxxxxxxx');
        expect(await store.recordedEvents()).toHaveLength(8);
      });

      it('answers USER_NOT_FOUND when updating or removing an unknown user', async () => {
        // A malformed id too: the uuid column must not turn it into a database error.
        for (const id of [aUser().id, 'not-a-uuid']) {
          await expect(
            store.users.update(id, (u) => ({ user: u, events: [] })),
          ).rejects.toMatchObject({ reason: 'USER_NOT_FOUND' });
          await expect(
            store.users.remove(id, (u) => ({ type: 'deleted', userId: u.id, occurTime: now })),
          ).rejects.toMatchObject({
            reason: 'USER_NOT_FOUND',
          });
        }
      });

      it('removes the user and the login failures of their email, with the event', async () => {
        const { user } = registered();
        await store.users.add({ user, events: [] });
        await store.loginFailures.takeSlot(user.email, now, policy);
        expect(await store.loginFailures.get(user.email)).toBeDefined();
        await store.users.remove(user.id, (u) => ({
          type: 'deleted',
          userId: u.id,
          occurTime: now,
        }));
        expect(await store.users.get(user.id)).toBeUndefined();
        expect(await store.loginFailures.get(user.email)).toBeUndefined();
        expect(await store.recordedEvents()).toEqual([{ type: 'deleted', userId: user.id }]);
      });

      it('deletes the idempotent responses about the removed user, and only theirs', async () => {
        const { user } = registered();
        await store.users.add({ user, events: [] });
        const ttl = 60_000;
        for (const keyHash of ['mine', 'theirs'])
          await store.idempotency.claim({ keyHash, fingerprint: 'f', now }, ttl);
        await store.idempotency.complete('mine', new Uint8Array([1]), user.id);
        await store.idempotency.complete('theirs', new Uint8Array([2]), aUser().id);
        await store.users.remove(user.id, (u) => ({
          type: 'deleted',
          userId: u.id,
          occurTime: now,
        }));
        expect(
          await store.idempotency.claim({ keyHash: 'mine', fingerprint: 'f', now }, ttl),
        ).toEqual({ claimed: true });
        expect(
          await store.idempotency.claim({ keyHash: 'theirs', fingerprint: 'f', now }, ttl),
        ).toMatchObject({ claimed: false });
      });
    });

    describe('UserDirectory', () => {
      it('finds a user without the password hash', async () => {
        const { user } = registered();
        await store.users.add({ user, events: [] });
        expect(await store.directory.find(user.id)).toEqual(toView(user));
        expect(await store.directory.find(aUser().id)).toBeUndefined();
      });

      it('lists by (create_time, id), after a cursor, at most limit, ties broken by id', async () => {
        const tie = new Date('2026-01-05T00:00:00.000Z');
        const users = [aUser({ createTime: tie }), aUser({ createTime: tie }), aUser(), aUser()];
        for (const user of users) await store.users.add({ user, events: [] });
        const order = [...users].sort(
          (a, b) => a.createTime.getTime() - b.createTime.getTime() || (a.id < b.id ? -1 : 1),
        );

        const all = await store.directory.list({ emailPrefix: '' }, undefined, 10);
        expect(all.map((u) => u.id)).toEqual(order.map((u) => u.id));
        expect(all[0]).not.toHaveProperty('passwordHash');
        const afterFirst = await store.directory.list({ emailPrefix: '' }, order[0], 2);
        expect(afterFirst.map((u) => u.id)).toEqual([order[1]!.id, order[2]!.id]);
      });

      it('filters by email prefix, taking _ and % literally, and by status', async () => {
        const users = [
          aUser({ email: 'a_b@example.com' }),
          aUser({ email: 'axb@example.com' }),
          aUser({ email: 'a%c@example.com', status: 'DISABLED' }),
          aUser({ email: 'a\\d@example.com' }),
          aUser({ email: 'zed@example.com', status: 'DISABLED' }),
        ];
        for (const user of users) await store.users.add({ user, events: [] });
        const emails = async (emailPrefix: string, status?: 'ACTIVE' | 'DISABLED') =>
          (
            await store.directory.list(
              { emailPrefix, ...(status ? { status } : {}) },
              undefined,
              10,
            )
          ).map((u) => u.email);
        expect(await emails('a_')).toEqual(['a_b@example.com']);
        expect(await emails('a%')).toEqual(['a%c@example.com']);
        expect(await emails('a\\')).toEqual(['a\\d@example.com']);
        expect(await emails('a')).toHaveLength(4);
        expect(await emails('', 'DISABLED')).toEqual(['a%c@example.com', 'zed@example.com']);
        expect(await emails('a', 'ACTIVE')).toEqual([
          'a_b@example.com',
          'axb@example.com',
          'a\\d@example.com',
        ]);
      });
    });

    describe('LoginFailureStore', () => {
      const at = (ms: number) => new Date(now.getTime() + ms);
      const take = (email: string, ms: number, p = policy) =>
        store.loginFailures.takeSlot(email, at(ms), p);

      it('counts a slot per attempt in the window, and forgets them on clear', async () => {
        expect(await store.loginFailures.get('x@example.com')).toBeUndefined();
        expect(await take('x@example.com', 0)).toEqual({
          taken: true,
          failures: { email: 'x@example.com', failureCount: 1, windowStartTime: now },
        });
        const second = await take('x@example.com', 1_000);
        expect(second).toEqual({
          taken: true,
          failures: { email: 'x@example.com', failureCount: 2, windowStartTime: now },
        });
        expect(await store.loginFailures.get('x@example.com')).toEqual(
          second.taken && second.failures,
        );
        await store.loginFailures.clear('x@example.com');
        expect(await store.loginFailures.get('x@example.com')).toBeUndefined();
        expect(await take('x@example.com', 2_000)).toMatchObject({
          taken: true,
          failures: { failureCount: 1, windowStartTime: at(2_000) },
        });
      });

      it('marks the last slot locked, then refuses until the window ends', async () => {
        for (let i = 0; i < policy.maxFailures - 1; i++) await take('l@example.com', i);
        const lockedUntilTime = at(policy.windowMs);
        expect(await take('l@example.com', 10)).toEqual({
          taken: true,
          failures: {
            email: 'l@example.com',
            failureCount: policy.maxFailures,
            windowStartTime: now,
            lockedUntilTime,
          },
        });
        expect(await take('l@example.com', 20)).toEqual({ taken: false, lockedUntilTime });
        expect(await take('l@example.com', policy.windowMs - 1)).toEqual({
          taken: false,
          lockedUntilTime,
        });
        expect((await store.loginFailures.get('l@example.com'))?.failureCount).toBe(
          policy.maxFailures,
        );
      });

      it('opens a new window once the last one has passed, locked or not', async () => {
        await take('w@example.com', 0);
        expect(await take('w@example.com', policy.windowMs)).toEqual({
          taken: true,
          failures: {
            email: 'w@example.com',
            failureCount: 1,
            windowStartTime: at(policy.windowMs),
          },
        });
        for (let i = 0; i < policy.maxFailures; i++) await take('v@example.com', i);
        expect(await take('v@example.com', policy.windowMs + 5)).toMatchObject({
          taken: true,
          failures: { failureCount: 1, windowStartTime: at(policy.windowMs + 5) },
        });
        expect(await store.loginFailures.get('v@example.com')).not.toHaveProperty(
          'lockedUntilTime',
        );
      });

      it('locks with the first slot when one failure is the limit', async () => {
        const one = { ...policy, maxFailures: 1 };
        expect(await take('o@example.com', 0, one)).toMatchObject({
          taken: true,
          failures: { failureCount: 1, lockedUntilTime: at(policy.windowMs) },
        });
        expect(await take('o@example.com', 1, one)).toEqual({
          taken: false,
          lockedUntilTime: at(policy.windowMs),
        });
      });

      it('gives at most maxFailures of 40 concurrent attempts a slot, each its own count', async () => {
        const slots: FailureSlot[] = await Promise.all(
          Array.from({ length: 40 }, () => take('c@example.com', 0)),
        );
        const counts = slots.flatMap((s) => (s.taken ? [s.failures.failureCount] : []));
        expect(counts.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
        expect(slots.filter((s) => !s.taken)).toHaveLength(35);
        expect((await store.loginFailures.get('c@example.com'))?.failureCount).toBe(5);
      });

      it('keeps emails apart', async () => {
        for (let i = 0; i < policy.maxFailures; i++) await take('a@example.com', i);
        expect(await take('b@example.com', 0)).toMatchObject({ taken: true });
      });
    });

    describe('SignInLookup', () => {
      const find = (email: string, ms = 0, p = policy) =>
        store.signIns.takeSlotAndFind(email, new Date(now.getTime() + ms), p);

      it('takes a slot and reads the account the email names, in one step', async () => {
        const change = registered({ email: 'in@example.com' });
        await store.users.add(registered({ email: 'other@example.com' }));
        await store.users.add(change);
        expect(await find('in@example.com')).toEqual({
          slot: {
            taken: true,
            failures: { email: 'in@example.com', failureCount: 1, windowStartTime: now },
          },
          user: change.user,
        });
        expect((await store.loginFailures.get('in@example.com'))?.failureCount).toBe(1);
      });

      it('counts an unknown email like a known one, and finds no account', async () => {
        expect(await find('nobody@example.com')).toEqual({
          slot: {
            taken: true,
            failures: { email: 'nobody@example.com', failureCount: 1, windowStartTime: now },
          },
          user: undefined,
        });
      });

      it('shares the window of takeSlot, and is refused once it is full', async () => {
        await store.users.add(registered({ email: 'full@example.com' }));
        for (let i = 0; i < policy.maxFailures - 1; i++)
          await store.loginFailures.takeSlot('full@example.com', now, policy);
        expect(await find('full@example.com', 10)).toMatchObject({
          slot: { taken: true, failures: { failureCount: policy.maxFailures } },
        });
        expect((await find('full@example.com', 20)).slot).toEqual({
          taken: false,
          lockedUntilTime: new Date(now.getTime() + policy.windowMs),
        });
        expect((await store.loginFailures.get('full@example.com'))?.failureCount).toBe(
          policy.maxFailures,
        );
      });

      it('gives at most maxFailures of 40 concurrent sign-ins a slot', async () => {
        await store.users.add(registered({ email: 'many@example.com' }));
        const found = await Promise.all(Array.from({ length: 40 }, () => find('many@example.com')));
        const taken = found.filter(({ slot }) => slot.taken);
        expect(taken).toHaveLength(policy.maxFailures);
        for (const { user } of taken) expect(user?.email).toBe('many@example.com');
      });
    });

    describe('IdempotencyStore', () => {
      const ttl = 60_000;
      const record = { keyHash: 'k1', fingerprint: 'f1', now };

      it('claims once; a second claim sees the pending record, then the completed response', async () => {
        expect(await store.idempotency.claim(record, ttl)).toEqual({ claimed: true });
        expect(await store.idempotency.claim({ ...record, fingerprint: 'f2' }, ttl)).toEqual({
          claimed: false,
          existing: { keyHash: 'k1', fingerprint: 'f1', response: null, createTime: now },
        });
        await store.idempotency.complete('k1', new Uint8Array([1, 2, 3]));
        const replay = await store.idempotency.claim(record, ttl);
        expect(replay.claimed).toBe(false);
        expect(replay.claimed === false && Array.from(replay.existing.response ?? [])).toEqual([
          1, 2, 3,
        ]);
      });

      it('can be claimed again after a release, or once the record has expired', async () => {
        await store.idempotency.claim(record, ttl);
        await store.idempotency.release('k1');
        expect(await store.idempotency.claim(record, ttl)).toEqual({ claimed: true });
        const later = new Date(now.getTime() + ttl + 1);
        expect(
          await store.idempotency.claim({ ...record, fingerprint: 'f9', now: later }, ttl),
        ).toEqual({ claimed: true });
        const again = await store.idempotency.claim({ ...record, now: later }, ttl);
        expect(again.claimed === false && again.existing.fingerprint).toBe('f9');
      });
    });
  });
}
