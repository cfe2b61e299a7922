// Applies authz-service's migrations; the production migrations Job runs this.
import { startProcess } from '@warden/runtime';
import { authzService } from './config.js';

const proc = await startProcess({ ...authzService, role: 'migrate' });
proc.logger.info({ schema: proc.config.database.schema }, 'migrations up to date');
process.exitCode = await proc.close();
