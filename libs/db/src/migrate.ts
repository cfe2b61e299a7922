import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

/**
 * Applies Prisma-layout migrations (`<dir>/<name>/migration.sql`) and records them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does (checksum = sha256 of the file,
 * Prisma's advisory lock), so either tool can take over from the other.
 */
export interface MigrateOptions {
  schema: string;
  migrationsDir: string;
  log?: (message: string) => void;
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const PRISMA_ADVISORY_LOCK = 72707369;

const MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export function listMigrations(migrationsDir: string): Migration[] {
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')),
    )
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Returns the names of the migrations it applied. Safe to run from several processes at once. */
export async function migrate(pool: pg.Pool, options: MigrateOptions): Promise<string[]> {
  const migrations = listMigrations(options.migrationsDir);
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
    await client.query(`SET search_path TO "${options.schema}"`);
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      await client.query(MIGRATIONS_TABLE);
      const { rows } = await client.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        rolled_back_at: Date | null;
      }>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
      const done = new Map(
        rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]),
      );
      for (const migration of migrations) {
        const record = done.get(migration.name);
        if (record?.finished_at === null) {
          throw new Error(
            `migration ${migration.name} failed earlier; resolve it before migrating again`,
          );
        }
        if (record) {
          if (record.checksum !== migration.checksum) {
            throw new Error(
              `migration ${migration.name} was changed after it was applied (checksum differs)`,
            );
          }
          continue;
        }
        await applyOne(client, migration);
        applied.push(migration.name);
        options.log?.(`applied migration ${migration.name}`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
    }
  } finally {
    await client.query('RESET search_path').catch(() => undefined);
    client.release();
  }
  return applied;
}

async function applyOne(client: pg.PoolClient, migration: Migration): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export interface WaitForMigrationsOptions {
  schema: string;
  migrationsDir: string;
  /** Gives up (throws) after this long. */
  timeoutMs: number;
  /** Between two looks at `_prisma_migrations`. */
  intervalMs?: number;
  log?: (message: string) => void;
}

/**
 * Waits until every migration of `migrationsDir` is recorded as finished in the schema's
 * `_prisma_migrations` (by another process: the release's migrate Job), never applying one itself.
 * An unreachable database or a missing schema counts as "not yet". Throws on timeout naming what is
 * missing, and at once when an applied migration's checksum differs from this build's file.
 */
export async function waitForMigrations(
  pool: pg.Pool,
  options: WaitForMigrationsOptions,
): Promise<void> {
  const expected = listMigrations(options.migrationsDir);
  const intervalMs = options.intervalMs ?? 1_000;
  const deadline = Date.now() + options.timeoutMs;
  const table = `"${options.schema}"."_prisma_migrations"`;
  let missing = expected.map((m) => m.name);
  let lastError: string | undefined;
  let reported = '';
  for (;;) {
    try {
      const { rows } = await pool.query<{ migration_name: string; checksum: string }>(
        `SELECT migration_name, checksum FROM ${table}
         WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      );
      lastError = undefined;
      const applied = new Map(rows.map((r) => [r.migration_name, r.checksum]));
      for (const migration of expected) {
        const checksum = applied.get(migration.name);
        if (checksum !== undefined && checksum !== migration.checksum)
          throw new MigrationMismatch(
            `migration ${migration.name} is applied with another checksum than this build's`,
          );
      }
      missing = expected.filter((m) => !applied.has(m.name)).map((m) => m.name);
    } catch (error) {
      if (error instanceof MigrationMismatch) throw error;
      // 42P01: no _prisma_migrations yet (3F000: no schema): nothing applied so far.
      const code = (error as { code?: string }).code;
      if (code !== '42P01' && code !== '3F000') lastError = (error as Error).message;
    }
    if (missing.length === 0 && lastError === undefined) return;
    const state = lastError ? `database: ${lastError}` : `missing ${missing.join(', ')}`;
    if (state !== reported) {
      options.log?.(`waiting for migrations of schema ${options.schema}: ${state}`);
      reported = state;
    }
    const left = deadline - Date.now();
    if (left <= 0)
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for the migrations of schema ` +
          `${options.schema} (${state}); run this release's migrate Job`,
      );
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}

class MigrationMismatch extends Error {}
