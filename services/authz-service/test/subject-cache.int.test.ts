import { OutboxRelay, type ReplicaFeed } from '@warden/events';
import { callUnary, createClient } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribePolicyEvents } from '../src/adapters/nats/policy-events-subscriber.js';
import { createAuthzApp, type AuthzApp } from '../src/app.js';
import { newAssignment, type RoleAssignment } from '../src/domain/index.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aRole, aUserCall, aUserId, silentLogger } from './support/mothers.js';
import { connectTestNats, type TestNats } from './support/nats.js';
import { seed } from './support/seed.js';
import { SERVICE_KEYS, startAuthzServer } from './support/server.js';

// authz-service with room for two subjects, on the real Postgres and NATS: every check over many
// subjects must still be right (each miss one read), and an event about a subject pushed out of
// the cache must change nothing but its next read. A second replica (no cache bound) makes the
// changes, as another pod would; its events reach the small one through NATS.
let db: MigratedSchema;
let nats: TestNats;
let relay: OutboxRelay;
let small: Awaited<ReturnType<typeof startAuthzServer>>;
let other: AuthzApp;
let client: authzv1.AuthzServiceClient;
const feeds: ReplicaFeed[] = [];
const adminId = aUserId();
const asAdmin = aUserCall(adminId);

/** 30 subjects: players, guests, moderators (inheriting player), and lapsing admins. */
const ROLES = ['player', 'guest', 'moderator', 'admin'] as const;
const subjects = Array.from({ length: 30 }, (_, i) => ({ id: aUserId(), role: ROLES[i % 4]! }));
const EXPECTED: Record<(typeof ROLES)[number], Record<string, boolean>> = {
  player: { 'game.join': true, 'chat.mute': false, 'user.disable': false },
  guest: { 'game.join': false, 'chat.mute': false, 'user.disable': false },
  moderator: { 'game.join': true, 'chat.mute': true, 'user.disable': false },
  admin: { 'game.join': true, 'chat.mute': true, 'user.disable': true },
};

const allowed = async (subjectId: string, permission: string): Promise<boolean> =>
  (
    await callUnary(
      client.checkPermission,
      client,
      authzv1.CheckPermissionRequest.fromPartial({ subjectId, permission }),
    )
  ).allowed;

beforeAll(async () => {
  db = await migratedSchema(6);
  nats = await connectTestNats('authz-service');
  const now = new Date();
  await seed(db.repository, {
    roles: [aRole({ name: 'moderator', permissions: ['chat.*'], inherits: ['player'] })],
    assignments: [
      newAssignment({ subjectId: adminId, role: 'admin' }, now),
      ...subjects.map(({ id, role }): RoleAssignment =>
        newAssignment(
          // Admins here lapse in an hour: still held, but cached with their expiry.
          role === 'admin'
            ? { subjectId: id, role, expireTime: new Date(now.getTime() + 3_600_000) }
            : { subjectId: id, role },
          now,
        ),
      ),
    ],
  });
  small = await startAuthzServer({ repository: db.repository, subjectCacheMax: 2 });
  feeds.push(subscribePolicyEvents(nats.nc, small.app.sync, { logger: silentLogger }));
  other = createAuthzApp({ repository: db.repository, logger: silentLogger });
  await other.sync.loadCatalogue();
  relay = new OutboxRelay({ pool: db.pool, js: nats.js, logger: silentLogger });
  relay.start();
  client = createClient(authzv1.AuthzServiceClient, {
    address: small.address,
    serviceKey: SERVICE_KEYS.gateway,
  });
});

afterAll(async () => {
  client?.close();
  await relay?.stop();
  await Promise.all(feeds.map((feed) => feed.stop()));
  await small?.close();
  await nats?.nc.close();
  await db?.drop();
});

describe('authz with authz.subject_cache_max = 2', () => {
  it('answers every check over 30 subjects right, holding two at a time', async () => {
    const missesBefore = small.app.model.cache.stats.misses;
    // Three passes in a different order each, every subject asked three permissions in a row.
    for (const order of [1, 7, 11]) {
      for (let k = 0; k < subjects.length; k++) {
        const { id, role } = subjects[(k * order) % subjects.length]!;
        for (const [permission, expected] of Object.entries(EXPECTED[role]))
          expect({ id, role, permission, allowed: await allowed(id, permission) }).toEqual({
            id,
            role,
            permission,
            allowed: expected,
          });
        expect(small.app.model.cache.size).toBeLessThanOrEqual(2);
      }
    }
    const { stats } = small.app.model.cache;
    // One read per subject per pass (the other two checks hit), never more.
    expect(stats.misses - missesBefore).toBe(3 * subjects.length);
    expect(stats.evictions).toBeGreaterThanOrEqual(3 * subjects.length - 2);
  });

  it('an event about an evicted subject changes nothing but its next read', async () => {
    const [evicted, cachedA, cachedB] = [aUserId(), aUserId(), aUserId()];
    expect(await allowed(evicted, 'game.join')).toBe(false); // cached as holding nothing
    expect(await allowed(cachedA, 'game.join')).toBe(false);
    expect(await allowed(cachedB, 'game.join')).toBe(false); // evicted is out now
    expect(small.app.model.holds(evicted)).toBe(false);

    // Another replica gives the evicted subject a role, then one of the cached ones.
    await other.bus.run(other.useCases.assignRole, { subjectId: evicted, role: 'player' }, asAdmin);
    await other.bus.run(other.useCases.assignRole, { subjectId: cachedB, role: 'player' }, asAdmin);
    // The second event re-reads cachedB in place; by then the first one has been handled too.
    await waitFor(() => small.app.model.cache.size === 2 && allowed(cachedB, 'game.join'), {
      what: 'the small replica follows the event about a subject it holds',
    });
    // The event about the evicted subject read nothing and cached nothing...
    expect(small.app.model.holds(evicted)).toBe(false);
    expect(small.app.model.cache.size).toBeLessThanOrEqual(2);
    // ...and its next check reads the current state.
    expect(await allowed(evicted, 'game.join')).toBe(true);

    // A revocation while it is out of the cache again: the next read sees it gone.
    expect(await allowed(cachedA, 'game.join')).toBe(false);
    expect(await allowed(cachedB, 'game.join')).toBe(true);
    expect(small.app.model.holds(evicted)).toBe(false);
    await other.bus.run(other.useCases.revokeRole, { subjectId: evicted, role: 'player' }, asAdmin);
    expect(await allowed(evicted, 'game.join')).toBe(false);
  });

  it('a revocation reaches a cached subject through its event', async () => {
    const subjectId = aUserId();
    await other.bus.run(other.useCases.assignRole, { subjectId, role: 'player' }, asAdmin);
    expect(await allowed(subjectId, 'game.join')).toBe(true);
    expect(small.app.model.holds(subjectId)).toBe(true);
    await other.bus.run(other.useCases.revokeRole, { subjectId, role: 'player' }, asAdmin);
    await waitFor(async () => !(await allowed(subjectId, 'game.join')), {
      what: 'the cached subject loses the role on the small replica',
    });
  });
});
