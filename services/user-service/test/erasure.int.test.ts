import { insertOutbox, newEvent } from '@warden/events';
import { PgIdempotencyStore } from '@warden/db';
import { userEventsV1 } from '@warden/proto';
import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../src/adapters/prisma/prisma-client.js';
import { PrismaUserRepository } from '../src/adapters/prisma/prisma-user-repository.js';
import { registerUser } from '../src/domain/user.js';
import { migrateUserSchema } from './support/database.js';
import { aUser } from './support/mothers.js';

let db: TestSchema;
let prisma: PrismaClient;
let users: PrismaUserRepository;

beforeAll(async () => {
  db = await testSchema('user_erasure', 4);
  await migrateUserSchema(db.pool, db.schema);
  prisma = createPrismaClient(db.pool, db.schema);
  users = new PrismaUserRepository(db.pool);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

/** An outbox row as versions before v1.1 wrote it: personal data in the payload. */
async function legacyRow(
  type: 'registered' | 'updated',
  userId: string,
  email: string,
  displayName: string,
  published: boolean,
): Promise<string> {
  const payload =
    type === 'registered'
      ? userEventsV1.UserRegistered.encode({ userId, email, displayName, occurTime: new Date() })
      : userEventsV1.UserUpdated.encode({ userId, displayName, updateMask: ['display_name'] });
  const env = newEvent({
    type: `warden.user.v1.${type}`,
    source: 'user-service',
    subjectId: userId,
    payload: payload.finish(),
  });
  await insertOutbox(db.pool, [env]);
  if (published)
    await db.pool.query('UPDATE outbox SET published_time = now() WHERE id = $1', [env.id]);
  return env.id;
}

const rowsAbout = async (userId: string) =>
  (
    await db.pool.query<{ type: string; payload: Buffer; published: boolean }>(
      `SELECT type, payload, published_time IS NOT NULL AS published FROM outbox
       WHERE headers->>'ce-subject' = $1 ORDER BY create_time, id`,
      [userId],
    )
  ).rows;

describe('DeleteUser over Postgres', () => {
  it("redacts the user's outbox rows in the deleting transaction (unpublished ones still publish) and drops their idempotent responses", async () => {
    const user = aUser({ email: 'erase-me@example.com', displayName: 'Erase Me Please' });
    await users.add(registerUser({ ...user, now: user.createTime }));
    await legacyRow('registered', user.id, user.email, user.displayName, true);
    await legacyRow('updated', user.id, user.email, 'Erase Me Later', false);
    const other = aUser({ email: 'keep-me@example.com', displayName: 'Keep Me' });
    await legacyRow('registered', other.id, other.email, other.displayName, false);
    const idempotency = new PgIdempotencyStore(db.pool);
    await idempotency.claim(
      { keyHash: 'register-erase-me', fingerprint: 'f', now: new Date() },
      60_000,
    );
    await idempotency.complete('register-erase-me', Buffer.from(user.email), user.id);

    await users.remove(user.id, (u) => ({ type: 'deleted', userId: u.id, occurTime: new Date() }));

    const rows = await rowsAbout(user.id);
    expect(rows.map((r) => [r.type, r.published])).toEqual([
      ['warden.user.v1.registered', false], // the new, ids-only one from registerUser
      ['warden.user.v1.registered', true],
      ['warden.user.v1.updated', false],
      ['warden.user.v1.deleted', false],
    ]);
    for (const row of rows) {
      const text = row.payload.toString('latin1');
      expect(text).not.toContain('erase-me@example.com');
      expect(text).not.toContain('Erase Me');
    }
    expect(userEventsV1.UserRegistered.decode(rows[1]!.payload)).toMatchObject({
      userId: user.id,
      email: '',
      displayName: '',
    });
    expect(userEventsV1.UserUpdated.decode(rows[2]!.payload)).toMatchObject({
      userId: user.id,
      displayName: '',
      updateMask: ['display_name'],
    });
    const everything = await db.pool.query(
      `SELECT t::text AS row FROM outbox t UNION ALL SELECT t::text FROM users t
       UNION ALL SELECT t::text FROM idempotency_keys t UNION ALL SELECT t::text FROM login_failures t`,
    );
    const dump = everything.rows.map((r) => r.row).join('\n');
    expect(dump).not.toContain('erase-me@example.com');
    expect(dump).not.toContain(Buffer.from('erase-me@example.com').toString('hex'));
    // Other users' rows are left alone.
    expect(userEventsV1.UserRegistered.decode((await rowsAbout(other.id))[0]!.payload).email).toBe(
      'keep-me@example.com',
    );
  });
});
