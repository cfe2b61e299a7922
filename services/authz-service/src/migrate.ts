// Applies authz-service's migrations; the production migrations Job runs this.
// With --wait [--timeout=10m] (each Deployment's init container) it applies nothing and only
// waits until every migration of this build is applied.
import { startProcess } from '@warden/runtime';
import { authzService } from './config.js';

const proc = await startProcess({
  ...authzService,
  role: 'migrate',
  args: process.argv.slice(2),
});
proc.logger.info({ schema: proc.config.database.schema }, 'migrations up to date');
process.exitCode = await proc.close();
