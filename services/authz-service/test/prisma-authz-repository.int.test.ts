import { afterAll, beforeAll } from 'vitest';
import { authzRepositoryContract } from './support/authz-repository-contract.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';

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
