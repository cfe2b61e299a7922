// The migrations Job: applies pending migrations (and the stored-email fix) and exits.
import { startProcess } from '@warden/runtime';
import { normalizeStoredEmails } from './adapters/prisma/migrations.js';
import { createPrismaClient } from './adapters/prisma/prisma-client.js';
import { loadUserConfig, MIGRATIONS_DIR } from './config.js';
import { SERVICE_NAME } from './server.js';

const proc = await startProcess({
  service: SERVICE_NAME,
  role: 'migrate',
  migrate: true,
  loadConfig: () => loadUserConfig(),
  migrations: { dir: MIGRATIONS_DIR, after: normalizeStoredEmails },
  readyQuery: 'SELECT 1 FROM users LIMIT 1',
  prisma: createPrismaClient,
});
proc.logger.info({ schema: proc.config.database.schema }, 'migrations up to date');
process.exitCode = await proc.close();
