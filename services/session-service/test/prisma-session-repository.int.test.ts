import { afterAll, beforeAll } from 'vitest';
import { PrismaSessionRepository } from '../src/adapters/prisma/prisma-session-repository.js';
import { migratedSchema, outboxEvents, type MigratedSchema } from './support/database.js';
import { sessionRepositoryContract } from './support/session-repository-contract.js';

let db: MigratedSchema;
beforeAll(async () => {
  db = await migratedSchema('session_repo');
});
afterAll(() => db.drop());

sessionRepositoryContract('prisma', async () => {
  // DELETE, not TRUNCATE: these tables are tiny here and TRUNCATE waits for an exclusive lock.
  await db.pool.query(
    'DELETE FROM rotated_tokens; DELETE FROM sessions; DELETE FROM outbox; DELETE FROM processed_events',
  );
  return {
    sessions: new PrismaSessionRepository(db.prisma, db.pool),
    events: () => outboxEvents(db),
  };
});
