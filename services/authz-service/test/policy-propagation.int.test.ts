import { randomUUID } from 'node:crypto';
import { OutboxRelay, type DurableConsumer, type ReplicaFeed } from '@warden/events';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribePolicyEvents } from '../src/adapters/nats/policy-events-subscriber.js';
import { createUserEventsConsumer } from '../src/adapters/nats/user-events-consumer.js';
import { createAuthzApp, systemClock, type AuthzApp } from '../src/app.js';
import { GiveDefaultRolesHandler } from '../src/application/commands/give-default-roles.js';
import { RemoveSubjectHandler } from '../src/application/commands/remove-subject.js';
import { newAssignment } from '../src/domain/index.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aUserCall, aUserId, silentLogger } from './support/mothers.js';
import { seed } from './support/seed.js';
import { aUserEventsStream, connectTestNats, publish, type TestNats } from './support/nats.js';

// Two server replicas (two in-process models on one schema), a relay and the user-events consumer:
// what one replica or the worker commits, the other replica learns through NATS. Each test has
// replica B check the subject first, so B holds it cached and only an event can change its answer.
let db: MigratedSchema;
// authz-service's own NATS user relays and hears policy events; ops owns the test user stream.
let nats: TestNats;
let ops: TestNats;
let relay: OutboxRelay;
let replicaA: AuthzApp;
let replicaB: AuthzApp;
const subscriptions: ReplicaFeed[] = [];
let userStream: Awaited<ReturnType<typeof aUserEventsStream>>;
let consumer: DurableConsumer;
const adminId = aUserId();
const asAdmin = aUserCall(adminId);

async function aReplica(): Promise<AuthzApp> {
  const app = createAuthzApp({ repository: db.repository, logger: silentLogger });
  subscriptions.push(subscribePolicyEvents(nats.nc, app.sync, { logger: silentLogger }));
  await app.sync.resync();
  return app;
}

beforeAll(async () => {
  db = await migratedSchema(8);
  nats = await connectTestNats('authz-service');
  ops = await connectTestNats('ops');
  await seed(db.repository, {
    assignments: [newAssignment({ subjectId: adminId, role: 'admin' }, new Date())],
  });
  replicaA = await aReplica();
  replicaB = await aReplica();
  relay = new OutboxRelay({ pool: db.pool, js: nats.js, logger: silentLogger });
  relay.start();
  userStream = await aUserEventsStream(ops.jsm);
  consumer = createUserEventsConsumer({
    ...ops,
    giveDefaultRoles: new GiveDefaultRolesHandler(db.repository, systemClock, {
      defaultRole: 'player',
    }),
    removeSubject: new RemoveSubjectHandler(db.repository, systemClock),
    logger: silentLogger,
    durable: userStream.durable,
    stream: userStream.name,
    filterSubject: userStream.filterSubject,
    subjectPrefix: userStream.prefix,
  });
  await consumer.start();
});

afterAll(async () => {
  await consumer?.stop();
  await userStream?.drop();
  await relay?.stop();
  await Promise.all(subscriptions.map((s) => s.stop()));
  await nats?.nc.close();
  await ops?.nc.close();
  await db?.drop();
});

const allowedOnB = async (subjectId: string, permission: string) =>
  (await replicaB.model.decide(subjectId, permission)).allowed;

describe('policy changes reach every replica through events', () => {
  it('an assignment and a revocation on one replica', async () => {
    const subjectId = aUserId();
    expect(await allowedOnB(subjectId, 'game.join')).toBe(false);
    expect(replicaB.model.holds(subjectId)).toBe(true);
    await replicaA.bus.run(replicaA.useCases.assignRole, { subjectId, role: 'player' }, asAdmin);
    await waitFor(() => allowedOnB(subjectId, 'game.join'), {
      what: 'replica B sees the assignment',
    });

    await replicaA.bus.run(replicaA.useCases.revokeRole, { subjectId, role: 'player' }, asAdmin);
    await waitFor(async () => !(await allowedOnB(subjectId, 'game.join')), {
      what: 'replica B sees the revocation',
    });
  });

  it('role catalogue changes, including a deletion that takes its assignments along', async () => {
    const subjectId = aUserId();
    const name = `role_${randomUUID().slice(0, 8)}`;
    await replicaA.bus.run(
      replicaA.useCases.createRole,
      { name, description: '', permissions: ['chat.mute'], inherits: [] },
      asAdmin,
    );
    expect(await allowedOnB(subjectId, 'chat.mute')).toBe(false);
    await replicaA.bus.run(replicaA.useCases.assignRole, { subjectId, role: name }, asAdmin);
    await waitFor(() => allowedOnB(subjectId, 'chat.mute'), {
      what: 'replica B sees the new role',
    });

    await replicaA.bus.run(
      replicaA.useCases.updateRole,
      {
        name,
        description: '',
        permissions: ['chat.ban'],
        inherits: [],
        updateMask: ['permissions'],
      },
      asAdmin,
    );
    await waitFor(
      async () =>
        (await allowedOnB(subjectId, 'chat.ban')) && !(await allowedOnB(subjectId, 'chat.mute')),
      {
        what: 'replica B sees the update',
      },
    );

    await replicaA.bus.run(replicaA.useCases.deleteRole, { name }, asAdmin);
    await waitFor(async () => (await replicaB.model.assignmentsOf(subjectId)).length === 0, {
      what: 'replica B drops the assignment',
    });
    expect(await allowedOnB(subjectId, 'chat.ban')).toBe(false);
  });

  it('a registration: the worker gives the default role, both replicas see it', async () => {
    const userId = aUserId();
    expect(await allowedOnB(userId, 'game.join')).toBe(false);
    await publish(ops.js, userStream.registered(userId));
    await waitFor(
      async () =>
        (await allowedOnB(userId, 'game.join')) &&
        (await replicaA.model.decide(userId, 'game.join')).allowed,
      { what: 'both replicas see the default role' },
    );
    expect((await replicaB.model.decide(userId, 'session.end', { ownerId: userId })).reason).toBe(
      'role player grants session.end:own (owner matches)',
    );
  });

  it("replica B's watermark follows every write through the events, so min_revision reads need no read-through", async () => {
    const subjectId = aUserId();
    expect(await allowedOnB(subjectId, 'game.join')).toBe(false);
    const { revision: assigned } = await replicaA.bus.run(
      replicaA.useCases.assignRole,
      { subjectId, role: 'player' },
      asAdmin,
    );
    await waitFor(async () => replicaB.sync.watermark.revision >= assigned, {
      what: "replica B's watermark at the assignment",
    });
    const revoked = await replicaA.bus.run(
      replicaA.useCases.revokeRole,
      { subjectId, role: 'player' },
      asAdmin,
    );
    // At once, whether or not the event has come: B waits for it or reads through.
    expect(
      await replicaB.bus.run(
        replicaB.useCases.checkPermission,
        { subjectId, permission: 'game.join', minRevision: revoked },
        asAdmin,
      ),
    ).toMatchObject({ allowed: false });
    await waitFor(async () => replicaB.sync.watermark.revision >= revoked, {
      what: "replica B's watermark at the revocation",
    });
    // The worker's writes (a registration's default role) count too.
    await publish(ops.js, userStream.registered(aUserId()));
    await waitFor(async () => (await db.repository.currentRevision()) > revoked, {
      what: 'the default role written',
    });
    const current = await db.repository.currentRevision();
    await waitFor(async () => replicaB.sync.watermark.revision >= current, {
      what: "replica B's watermark at the worker's write",
    });
    expect(replicaB.sync.watermark.pending).toBe(0);
  });
});
