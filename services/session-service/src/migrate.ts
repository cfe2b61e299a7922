// Applies session-service's migrations to its schema (the deployment's migrations Job).
import { startProcess } from '@warden/runtime';
import { sessionService } from './config.js';

const proc = await startProcess({ ...sessionService, role: 'migrate' });
proc.logger.info({ schema: proc.config.database.schema }, 'migrations up to date');
process.exitCode = await proc.close();
