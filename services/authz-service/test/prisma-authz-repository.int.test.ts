import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authzRepositoryContract } from './support/authz-repository-contract.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aRole, aUserId, T0 } from './support/mothers.js';
import { seed } from './support/seed.js';

let db: MigratedSchema;

beforeAll(async () => {
  db = await migratedSchema();
});

afterAll(async () => {
  await db?.drop();
});

// One schema for the file: each case truncates what it uses so runs stay independent and fast.
authzRepositoryContract('prisma', async () => {
  await db.pool.query(`
    TRUNCATE role_assignments, outbox, processed_events;
    DELETE FROM roles WHERE NOT built_in;`);
  return {
    repository: db.repository,
    outboxTypes: async () => (await db.outbox()).map((row) => row.subject),
  };
});

describe('prisma repository, against concurrent writers', () => {
  it('assignOnce turns a role deleted under it into ROLE_NOT_FOUND, writing nothing', async () => {
    await db.pool.query('TRUNCATE role_assignments, outbox, processed_events');
    await seed(db.repository, { roles: [aRole({ name: 'fleeting' })] });
    const deleter = await db.pool.connect();
    try {
      await deleter.query('BEGIN');
      await deleter.query("DELETE FROM roles WHERE name = 'fleeting'");
      // Our statement still sees the role, then waits on the deleter's row lock for its FK check.
      const subjectId = aUserId();
      const assigning = db.repository.assignOnce(
        { consumer: 'c1', eventId: aUserId() },
        [{ subjectId, role: 'fleeting', createTime: T0 }],
        [],
      );
      const outcome = assigning.then(
        () => 'assigned',
        (error: unknown) => error,
      );
      await waitForLockWait();
      await deleter.query('COMMIT');
      expect(await outcome).toMatchObject({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' });
      expect(await db.repository.assignmentsOf(subjectId)).toEqual([]);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM processed_events');
      expect(rows[0].n).toBe(0);
    } finally {
      deleter.release();
    }
  });
});

/** Until some backend of this test's database waits on a lock (bounded). */
async function waitForLockWait(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND datname = current_database()`,
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no backend ever waited on the lock');
}
