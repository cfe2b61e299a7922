import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgIdempotencyStore } from '@warden/db';
import {
  PgSignInLookup,
  PrismaLoginFailureStore,
} from '../src/adapters/prisma/prisma-login-failure-store.js';
import { PrismaOneTimeCodeStore } from '../src/adapters/prisma/prisma-one-time-code-store.js';
import { PrismaUserDirectory } from '../src/adapters/prisma/prisma-user-directory.js';
import { PrismaUserRepository } from '../src/adapters/prisma/prisma-user-repository.js';
import { migrateUserSchema } from './support/database.js';
import { describeAccountLifecycleContract } from './contracts/account-lifecycle.contract.js';
import { describeUserStoreContract } from './contracts/user-store.contract.js';

let db: TestSchema;

beforeAll(async () => {
  db = await testSchema('user_store', 10);
  await migrateUserSchema(db.pool, db.schema);
});

afterAll(async () => {
  await db?.drop();
});

describeUserStoreContract('prisma', async () => {
  await db.pool.query('TRUNCATE users, login_failures, idempotency_keys, outbox CASCADE');
  return {
    users: new PrismaUserRepository(db.pool),
    directory: new PrismaUserDirectory(db.pool),
    loginFailures: new PrismaLoginFailureStore(db.pool),
    signIns: new PgSignInLookup(db.pool),
    idempotency: new PgIdempotencyStore(db.pool),
    recordedEvents: async () => {
      const { rows } = await db.pool.query<{ type: string; user_id: string }>(
        `SELECT type, headers->>'ce-subject' AS user_id FROM outbox ORDER BY create_time, id`,
      );
      return rows.map((row) => ({
        type: row.type.replace('warden.user.v1.', ''),
        userId: row.user_id,
      }));
    },
  };
});

describeAccountLifecycleContract('prisma', async () => {
  await db.pool.query('TRUNCATE users, outbox CASCADE');
  return {
    users: new PrismaUserRepository(db.pool),
    directory: new PrismaUserDirectory(db.pool),
    codes: new PrismaOneTimeCodeStore(db.pool),
    recordedEvents: async () => {
      const { rows } = await db.pool.query<{ type: string; user_id: string }>(
        `SELECT type, headers->>'ce-subject' AS user_id FROM outbox ORDER BY create_time, id`,
      );
      return rows.map((row) => ({
        type: row.type.replace('warden.user.v1.', ''),
        userId: row.user_id,
      }));
    },
  };
});

describe('PrismaLoginFailureStore', () => {
  it('commits its bookkeeping asynchronously for that transaction only, never for the connection', async () => {
    const one = await testSchema('user_store_one', 1);
    try {
      await migrateUserSchema(one.pool, one.schema);
      const store = new PrismaLoginFailureStore(one.pool);
      await store.takeSlot('a@example.com', new Date(), { maxFailures: 5, windowMs: 60_000 });
      await store.clear('a@example.com');
      const { rows } = await one.pool.query<{ synchronous_commit: string }>(
        'SHOW synchronous_commit',
      );
      expect(rows).toEqual([{ synchronous_commit: 'on' }]);
      expect(await store.get('a@example.com')).toBeUndefined();
    } finally {
      await one.drop();
    }
  });
});
