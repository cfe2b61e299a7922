import { createPool } from '@warden/db';
import { failStartup } from '@warden/grpc';
import { createLogger } from '@warden/logger';
import { loadUserConfig } from './config.js';
import { migrateUserSchema } from './migrations.js';
import { SERVICE_NAME } from './server.js';

/** The migrations Job: applies pending migrations and exits. */
async function main(): Promise<void> {
  const config = loadUserConfig();
  const logger = createLogger({ service: SERVICE_NAME, level: config.log.level });
  const { database } = config;
  const pool = createPool({
    url: database.url,
    schema: database.schema,
    poolSize: 1,
    applicationName: `${SERVICE_NAME}:migrate`,
  });
  try {
    const applied = await migrateUserSchema(pool, database.schema, (line) => logger.info(line));
    logger.info({ applied: applied.length, schema: database.schema }, 'migrations up to date');
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => failStartup(`${SERVICE_NAME} migrate`, error));
