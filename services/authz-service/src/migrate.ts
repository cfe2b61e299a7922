// Applies authz-service's migrations; the production migrations Job runs this.
import { openRuntime } from './runtime.js';

const runtime = await openRuntime('migrate', { migrate: true });
runtime.logger.info('migrations applied');
await runtime.prisma.$disconnect();
await runtime.pool.end();
