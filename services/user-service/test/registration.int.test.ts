import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AllowAllChecker } from '@warden/bus';
import { fromNatsMessage, MSG_ID_HEADER, OutboxRelay, STREAMS } from '@warden/events';
import { createLogger } from '@warden/logger';
import { userEventsV1 } from '@warden/proto';
import { natsConnectOptions, testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserApp, type UserApp } from '../src/app.js';
import {
  Argon2PasswordHasher,
  STANDARD_ARGON2,
} from '../src/adapters/crypto/argon2-password-hasher.js';
import { NO_BREACH_CHECK } from '../src/adapters/http/breached-password-client.js';
import { PgIdempotencyStore } from '@warden/db';
import { PrismaLoginFailureStore } from '../src/adapters/prisma/prisma-login-failure-store.js';
import { SecretBox } from '../src/adapters/crypto/secret-box.js';
import { PrismaTotpFactorRepository } from '../src/adapters/prisma/prisma-totp-factor-repository.js';
import { TEST_MFA_KEY } from './support/mothers.js';
import { PrismaOneTimeCodeStore } from '../src/adapters/prisma/prisma-one-time-code-store.js';
import { PrismaUserDirectory } from '../src/adapters/prisma/prisma-user-directory.js';
import { PrismaUserRepository } from '../src/adapters/prisma/prisma-user-repository.js';
import { migrateUserSchema } from './support/database.js';
import { aCallContext } from './support/mothers.js';
import { messagesSince } from './support/stream-messages.js';

const logger = createLogger({ service: 'user-service-test', level: 'silent' });
const PASSWORD = 'integration password 1';

let db: TestSchema;
let app: UserApp;
// The relay publishes as user-service; the test reads the stream back as ops.
let nc: NatsConnection;
let userNc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  db = await testSchema('user_reg');
  await migrateUserSchema(db.pool, db.schema);
  app = createUserApp({
    users: new PrismaUserRepository(db.pool),
    directory: new PrismaUserDirectory(db.pool),
    loginFailures: new PrismaLoginFailureStore(db.pool),
    idempotencyStore: new PgIdempotencyStore(db.pool),
    // The production parameters: this test is about what lands in the database.
    hasher: await Argon2PasswordHasher.create(STANDARD_ARGON2),
    breaches: NO_BREACH_CHECK,
    authorizer: new AllowAllChecker(),
    codeStore: new PrismaOneTimeCodeStore(db.pool),
    totpFactors: new PrismaTotpFactorRepository(db.pool, new SecretBox(TEST_MFA_KEY)),
  });
  nc = await connect(natsConnectOptions('ops'));
  userNc = await connect(natsConnectOptions('user-service'));
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.drain();
  await userNc?.drain();
  await db?.drop();
});

const register = (email: string, requestId = '') =>
  app.bus.run(
    app.useCases.registerUser,
    { email, password: PASSWORD, displayName: 'Integration', requestId },
    aCallContext(),
  );

describe('registration against Postgres and NATS', () => {
  it('stores only an argon2id hash: the password appears in no table', async () => {
    const user = await register('stored@example.com', 'int-req-1');
    const { rows } = await db.pool.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE id = $1',
      [user.id],
    );
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    for (const table of ['users', 'outbox', 'idempotency_keys', 'login_failures']) {
      const { rows: dump } = await db.pool.query<{ row: string }>(
        `SELECT t::text AS row FROM ${table} t`,
      );
      expect(
        dump.filter((r) => r.row.includes(PASSWORD)),
        table,
      ).toEqual([]);
    }
    const verified = await app.bus.run(
      app.useCases.verifyCredentials,
      { email: 'STORED@example.com', password: PASSWORD },
      aCallContext({ service: { name: 'session-service' } }),
    );
    expect(verified.userId).toBe(user.id);
  });

  it('refuses a concurrent duplicate registration through the unique index', async () => {
    const results = await Promise.allSettled([
      register('race@example.com'),
      register(' RACE@example.com'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ kind: 'ALREADY_EXISTS', reason: 'EMAIL_TAKEN' });
    const { rows } = await db.pool.query(
      `SELECT 1 FROM outbox WHERE type = 'warden.user.v1.registered' AND headers->>'ce-subject' IN (SELECT id::text FROM users WHERE email = 'race@example.com')`,
    );
    expect(rows).toHaveLength(1);
    // The loser wrote no event either: every registered event names a user that exists.
    const orphans = await db.pool.query(
      `SELECT 1 FROM outbox o WHERE type = 'warden.user.v1.registered'
       AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id::text = o.headers->>'ce-subject')`,
    );
    expect(orphans.rows).toHaveLength(0);
  });

  it('puts exactly one warden.user.v1.registered message per registration on WARDEN_USER, Nats-Msg-Id = event id', async () => {
    const since = new Date(Date.now() - 1000);
    const user = await register('published@example.com');
    const { rows } = await db.pool.query<{ id: string }>(
      `SELECT id FROM outbox WHERE headers->>'ce-subject' = $1`,
      [user.id],
    );
    expect(rows).toHaveLength(1);
    const eventId = rows[0]!.id;

    const relay = new OutboxRelay({ pool: db.pool, js: jetstream(userNc), logger, listen: false });
    while ((await relay.relayOnce()) > 0);
    // A relay that crashed after publishing, before marking, publishes again: JetStream drops the copy.
    await db.pool.query('UPDATE outbox SET published_time = NULL WHERE id = $1', [eventId]);
    expect(await relay.relayOnce()).toBe(1);

    const mine = (
      await messagesSince(js, jsm, STREAMS.user.name, 'warden.user.v1.registered', since)
    ).filter((msg) => msg.headers?.get('ce-subject') === user.id);
    expect(mine).toHaveLength(1);
    const msg = mine[0]!;
    expect(msg.headers?.get(MSG_ID_HEADER)).toBe(eventId);
    const envelope = fromNatsMessage(msg);
    expect(envelope).toMatchObject({
      id: eventId,
      type: 'warden.user.v1.registered',
      source: 'user-service',
    });
    // Ids only: the stream keeps the event after the person is erased.
    expect(userEventsV1.UserRegistered.decode(envelope.payload)).toEqual({
      userId: user.id,
      email: '',
      displayName: '',
      occurTime: user.createTime,
    });
    expect(Buffer.from(msg.data).toString('latin1')).not.toContain('published@example.com');
  });
});
