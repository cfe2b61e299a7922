import { AppError, permissionDenied } from '@warden/errors';
import type { DurableConsumer } from '@warden/events';
import { waitFor } from '@warden/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUserEventsConsumer } from '../src/adapters/nats/user-events-consumer.js';
import { systemClock } from '../src/app.js';
import { BootstrapAdmins, bootstrapEntries } from '../src/application/bootstrap-admins.js';
import { GiveDefaultRolesHandler } from '../src/application/commands/give-default-roles.js';
import { RemoveSubjectHandler } from '../src/application/commands/remove-subject.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { FakeUserLookup } from './support/fake-user-lookup.js';
import { aUserId, silentLogger } from './support/mothers.js';
import { aUserEventsStream, connectTestNats, publish, type TestNats } from './support/nats.js';

let db: MigratedSchema;
let nats: TestNats;
let stream: Awaited<ReturnType<typeof aUserEventsStream>>;
let consumer: DurableConsumer;
let replica: DurableConsumer | undefined;
let users: FakeUserLookup;

beforeAll(async () => {
  db = await migratedSchema();
  nats = await connectTestNats();
});

afterAll(async () => {
  await nats?.nc.close();
  await db?.drop();
});

const aConsumer = () =>
  createUserEventsConsumer({
    ...nats,
    giveDefaultRoles: new GiveDefaultRolesHandler(
      db.repository,
      systemClock,
      { defaultRole: 'player' },
      new BootstrapAdmins(bootstrapEntries(['boss@example.com']), db.repository, users),
    ),
    removeSubject: new RemoveSubjectHandler(db.repository, systemClock),
    logger: silentLogger,
    durable: stream.durable,
    stream: stream.name,
    filterSubject: stream.filterSubject,
    subjectPrefix: stream.prefix,
    ackWaitMs: 5_000,
  });

beforeEach(async () => {
  users = new FakeUserLookup();
  await db.pool.query('DELETE FROM bootstrap_grants');
  stream = await aUserEventsStream(nats.jsm);
  consumer = aConsumer();
  await consumer.start();
});

afterEach(async () => {
  await replica?.stop();
  replica = undefined;
  await consumer.stop();
  await stream.drop();
});

const rolesOf = async (userId: string) =>
  (
    await db.pool.query('SELECT role FROM role_assignments WHERE subject_id = $1 ORDER BY role', [
      userId,
    ])
  ).rows.map((r) => r.role);
const outboxAbout = async (userId: string) =>
  (await db.outbox())
    .filter((row) => row.headers['ce-subject'] === userId)
    .map((row) => row.subject);
const processedCount = async () =>
  Number(
    (
      await db.pool.query('SELECT count(*) FROM processed_events WHERE consumer = $1', [
        stream.durable,
      ])
    ).rows[0].count,
  );

describe('user events consumer', () => {
  it('gives a registered user the default role exactly once, however often and to whichever replica the event comes', async () => {
    replica = aConsumer();
    await replica.start();
    const userId = aUserId();
    const registered = stream.registered(userId);
    await publish(nats.js, registered);
    await Promise.all(Array.from({ length: 4 }, () => publish(nats.js, registered, true)));

    await waitFor(async () => (await processedCount()) === 1 && (await consumerIdle()), {
      what: 'five deliveries handled',
    });
    expect(await rolesOf(userId)).toEqual(['player']);
    expect(await outboxAbout(userId)).toEqual(['warden.authz.v1.role_assigned']);
  });

  it('makes a bootstrap admin an admin as it registers, asking user-service for the email, once', async () => {
    const userId = aUserId();
    users.set('boss@example.com', userId);
    await publish(nats.js, stream.registered(userId));
    await waitFor(async () => (await rolesOf(userId)).length === 2, { what: 'two roles' });
    expect(await rolesOf(userId)).toEqual(['admin', 'player']);
    expect(users.asked).toEqual(['email:boss@example.com']);
    const { rows } = await db.pool.query('SELECT entry, subject_id FROM bootstrap_grants');
    expect(rows).toEqual([{ entry: expect.stringMatching(/^email-sha256:/), subject_id: userId }]);
    // The same email registered again (the first user deleted) gets only the default role.
    users.set('boss@example.com', undefined);
    const again = aUserId();
    users.set('boss@example.com', again);
    await publish(nats.js, stream.registered(again));
    await waitFor(async () => (await rolesOf(again)).length === 1, { what: 'the default role' });
    await waitFor(consumerIdle, { what: 'nothing left pending' });
    expect(await rolesOf(again)).toEqual(['player']);
  });

  it('makes a bootstrap admin who registered unverified an admin at their email_verified event', async () => {
    const userId = aUserId();
    users.set('boss@example.com', userId, false);
    await publish(nats.js, stream.registered(userId));
    await waitFor(async () => (await rolesOf(userId)).length === 1, { what: 'the default role' });
    await waitFor(consumerIdle, { what: 'the registration applied' });
    expect(await rolesOf(userId)).toEqual(['player']);
    users.set('boss@example.com', userId, true);
    const verified = stream.emailVerified(userId);
    await publish(nats.js, verified);
    await publish(nats.js, verified, true);
    await waitFor(async () => (await rolesOf(userId)).length === 2, { what: 'admin' });
    await waitFor(consumerIdle, { what: 'nothing left pending' });
    expect(await rolesOf(userId)).toEqual(['admin', 'player']);
    const { rows } = await db.pool.query('SELECT subject_id FROM bootstrap_grants');
    expect(rows).toEqual([{ subject_id: userId }]);
  });

  it('gives the default role and lets the event go when user-service refuses the lookup', async () => {
    users.failure = permissionDenied('user.list denied');
    const userId = aUserId();
    users.set('boss@example.com', userId);
    await publish(nats.js, stream.registered(userId));
    await waitFor(async () => (await processedCount()) === 1 && (await consumerIdle()), {
      what: 'the event acknowledged',
    });
    expect(await rolesOf(userId)).toEqual(['player']);
    expect(users.asked).toEqual(['email:boss@example.com']);
  });

  it('retries the grant while user-service is unavailable, then makes it once', async () => {
    users.failure = new AppError('UNAVAILABLE', 'UNAVAILABLE', 'user service unavailable');
    const userId = aUserId();
    users.set('boss@example.com', userId);
    await publish(nats.js, stream.registered(userId));
    await waitFor(() => users.asked.length >= 2, { timeoutMs: 20_000, what: 'a redelivery' });
    expect(await rolesOf(userId)).toEqual(['player']);
    users.failure = undefined;
    await waitFor(async () => (await rolesOf(userId)).length === 2, {
      timeoutMs: 20_000,
      what: 'the admin role',
    });
    await waitFor(consumerIdle, { what: 'nothing left pending' });
    expect(await rolesOf(userId)).toEqual(['admin', 'player']);
  });

  it('ignores an email in the event: only what user-service says counts', async () => {
    const userId = aUserId();
    users.set('someone@example.com', userId);
    await publish(nats.js, stream.registered(userId, 'boss@example.com'));
    await waitFor(async () => (await rolesOf(userId)).length === 1, { what: 'the default role' });
    await waitFor(consumerIdle, { what: 'nothing left pending' });
    expect(await rolesOf(userId)).toEqual(['player']);
  });

  it("removes a deleted user's assignments, announcing each", async () => {
    const userId = aUserId();
    await publish(nats.js, stream.registered(userId));
    await publish(nats.js, stream.deleted(userId));
    await waitFor(async () => (await processedCount()) === 2, { what: 'both events applied' });
    expect(await rolesOf(userId)).toEqual([]);
    expect(await outboxAbout(userId)).toEqual([
      'warden.authz.v1.role_assigned',
      'warden.authz.v1.role_revoked',
    ]);
  });

  it('lets an undecodable event go and carries on', async () => {
    const broken = stream.registered(aUserId());
    broken.payload = new Uint8Array([0x0a, 0xff, 0xff, 0xff]);
    await publish(nats.js, broken);
    const userId = aUserId();
    await publish(nats.js, stream.registered(userId));
    await waitFor(async () => (await rolesOf(userId)).length === 1, {
      what: 'the good event applied',
    });
    await waitFor(consumerIdle, { what: 'nothing left pending' });
  });
});

async function consumerIdle(): Promise<boolean> {
  const info = await nats.jsm.consumers.info(stream.name, stream.durable);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}
