import { fileURLToPath } from 'node:url';
import { migrate } from '@warden/db';
import type pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));
export const PRISMA_SCHEMA_PATH = fileURLToPath(
  new URL('../prisma/schema.prisma', import.meta.url),
);

/** Applies this service's migrations to `schema`, recording them like `prisma migrate deploy`. */
export const migrateUserSchema = (
  pool: pg.Pool,
  schema: string,
  log?: (line: string) => void,
): Promise<string[]> =>
  migrate(pool, { schema, migrationsDir: MIGRATIONS_DIR, ...(log ? { log } : {}) });
