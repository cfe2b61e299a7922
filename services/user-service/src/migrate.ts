// The migrations Job: applies pending migrations (and the stored-email fix) and exits.
import { startProcess } from '@warden/runtime';
import { userService } from './config.js';

const proc = await startProcess({ ...userService, role: 'migrate' });
proc.logger.info({ schema: proc.config.database.schema }, 'migrations up to date');
process.exitCode = await proc.close();
