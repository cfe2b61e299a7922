// Applies authz-service's migrations; the production migrations Job runs this.
import { startProcess } from '@warden/runtime';
import { createPrismaClient } from './adapters/prisma/prisma-client.js';
import { loadAuthzConfig, MIGRATIONS_DIR } from './config.js';
import { SERVICE_NAME } from './server.js';

const proc = await startProcess({
  service: SERVICE_NAME,
  role: 'migrate',
  migrate: true,
  loadConfig: () => loadAuthzConfig(),
  migrations: { dir: MIGRATIONS_DIR },
  readyQuery: 'SELECT 1 FROM roles LIMIT 1',
  prisma: createPrismaClient,
});
proc.logger.info({ schema: proc.config.database.schema }, 'migrations up to date');
process.exitCode = await proc.close();
