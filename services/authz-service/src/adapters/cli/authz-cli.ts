// Operator commands, run with database access (no gRPC, no bus authorization):
//   pnpm --filter @warden/authz-service admin assign-role --subject <id> --role <name> [--expire-time <ISO 8601>]
//   pnpm --filter @warden/authz-service admin grant-admin --subject <id>
//   pnpm --filter @warden/authz-service admin revoke-role --subject <id> --role <name>
// Changes go through the same repository as the service (state and outbox in one transaction).
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isAppError } from '@warden/errors';
import { startProcess } from '@warden/runtime';
import { systemClock } from '../../app.js';
import { AssignRoleHandler } from '../../application/commands/assign-role.js';
import { RevokeRoleHandler } from '../../application/commands/revoke-role.js';
import { OPERATOR_HOLDS_EVERYTHING } from '../../application/delegation.js';
import { NO_POLICY_LISTENER } from '../../application/ports.js';
import { authzService } from '../../config.js';
import { ADMIN_ROLE } from '../../domain/index.js';
import { PrismaAuthzRepository } from '../prisma/prisma-authz-repository.js';

const USAGE = `usage: admin <command> [options]
  assign-role --subject <id> --role <name> [--expire-time <ISO 8601>]
  grant-admin --subject <id>
  revoke-role --subject <id> --role <name>`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    subject: { type: 'string' },
    role: { type: 'string' },
    'expire-time': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const command = positionals[0];
if (values.help || !command || !['assign-role', 'grant-admin', 'revoke-role'].includes(command)) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}
const subjectId = values.subject ?? '';
const role = command === 'grant-admin' ? ADMIN_ROLE : (values.role ?? '');
let expireTime: Date | undefined;
if (values['expire-time'] !== undefined) {
  expireTime = new Date(values['expire-time']);
  if (Number.isNaN(expireTime.getTime()))
    fail(`--expire-time: not a date: ${values['expire-time']}`);
}

const proc = await startProcess({ ...authzService, role: 'cli' });
const repository = new PrismaAuthzRepository(proc.pool);
const ctx = { service: { name: 'authz-admin-cli' }, requestId: randomUUID() };
try {
  if (command === 'revoke-role') {
    const revision = await new RevokeRoleHandler(
      repository,
      systemClock,
      NO_POLICY_LISTENER,
    ).execute({ subjectId, role }, ctx);
    process.stdout.write(`revoked ${role} from ${subjectId} (revision ${revision})\n`);
  } else {
    const { value: assignment, revision } = await new AssignRoleHandler(
      repository,
      systemClock,
      NO_POLICY_LISTENER,
      OPERATOR_HOLDS_EVERYTHING,
    ).execute({ subjectId, role, ...(expireTime ? { expireTime } : {}) }, ctx);
    const until = assignment.expireTime ? ` until ${assignment.expireTime.toISOString()}` : '';
    process.stdout.write(
      `assigned ${assignment.role} to ${assignment.subjectId}${until} (revision ${revision})\n`,
    );
  }
} catch (error) {
  if (!isAppError(error)) throw error;
  const details = error.violations
    .map((v) => `\n  --${flagOf(v.field)}: ${v.description}`)
    .join('');
  fail(`${error.reason}: ${error.message}${details}`);
} finally {
  await proc.close();
}

function flagOf(field: string): string {
  return field === 'subject_id' ? 'subject' : field.replace(/_/g, '-');
}

function fail(message: string): never {
  console.error(`admin: ${message}`);
  process.exit(1);
}
