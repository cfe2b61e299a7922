import { migrate } from '@warden/db';
import type pg from 'pg';
import { normalizeStoredEmails } from '../../src/adapters/prisma/migrations.js';
import { MIGRATIONS_DIR } from '../../src/config.js';

/** What the migrations Job does: this service's migrations on `schema`, then the stored-email fix. */
export async function migrateUserSchema(
  pool: pg.Pool,
  schema: string,
  log?: (line: string) => void,
): Promise<string[]> {
  const applied = await migrate(pool, {
    schema,
    migrationsDir: MIGRATIONS_DIR,
    ...(log ? { log } : {}),
  });
  await normalizeStoredEmails(pool, schema, log);
  return applied;
}
