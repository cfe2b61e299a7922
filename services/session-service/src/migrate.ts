import { createPool, migrate } from '@warden/db';
import { failStartup } from '@warden/grpc';
import { loadSessionConfig } from './config.js';
import { MIGRATIONS_DIR } from './database.js';

/** Applies session-service's migrations to its schema (the deployment's migrations Job). */
try {
  const config = loadSessionConfig();
  const { url, schema } = config.database;
  const pool = createPool({ url, schema, poolSize: 1, applicationName: 'session-service:migrate' });
  try {
    const applied = await migrate(pool, {
      schema,
      migrationsDir: MIGRATIONS_DIR,
      log: (message) => console.error(message),
    });
    console.error(`session-service: ${applied.length} migration(s) applied to schema ${schema}`);
  } finally {
    await pool.end();
  }
} catch (error) {
  failStartup('session-service migrate', error);
}
