import { fileURLToPath } from 'node:url';
import { createPool, migrate } from '@warden/db';
import type { Logger } from '@warden/logger';
import type pg from 'pg';
import { createPrismaClient, type PrismaClient } from './adapters/prisma/prisma-client.js';
import type { Config } from './config.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

export interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** The process's one pool (search_path = the service schema), migrated first when configured, and Prisma over it. */
export async function openDatabase(
  config: Config,
  logger: Logger,
  role: string,
): Promise<Database> {
  const { url, schema, pool_size: poolSize, migrate_on_start: migrateOnStart } = config.database;
  const pool = createPool({ url, schema, poolSize, applicationName: `session-service:${role}` });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection failed'));
  if (migrateOnStart)
    await migrate(pool, {
      schema,
      migrationsDir: MIGRATIONS_DIR,
      log: (message) => logger.info(message),
    });
  const prisma = createPrismaClient(pool, schema);
  return {
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
