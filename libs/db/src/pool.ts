import pg from 'pg';

export interface DatabaseConfig {
  url: string;
  /** The service's own Postgres schema; every connection has it as search_path. */
  schema: string;
  poolSize: number;
  applicationName?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** One pool per process, shared by Prisma (through adapter-pg), the outbox relay and migrations. */
export function createPool(config: DatabaseConfig): pg.Pool {
  if (!SCHEMA_NAME.test(config.schema)) throw new Error(`invalid schema name "${config.schema}"`);
  return new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    application_name: config.applicationName,
    options: `-c search_path=${config.schema}`,
    idleTimeoutMillis: 30_000,
  });
}
