// Operator commands, run with database access (no gRPC, no bus authorization):
//   pnpm --filter @warden/authz-service admin assign-role --subject <id> --role <name> [--expire-time <ISO 8601>] [--scope <type>:<id>]
//   pnpm --filter @warden/authz-service admin grant-admin --subject <id>
//   pnpm --filter @warden/authz-service admin revoke-role --subject <id> --role <name> [--scope <type>:<id>]
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
  assign-role --subject <id> --role <name> [--expire-time <ISO 8601>] [--scope <type>:<id>]
  grant-admin --subject <id>
  revoke-role --subject <id> --role <name> [--scope <type>:<id>]`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    subject: { type: 'string' },
    role: { type: 'string' },
    'expire-time': { type: 'string' },
    scope: { type: 'string' },
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
// A role on one resource: `guild:42` (the type holds no `:`, the id may).
let scope: { type: string; id: string } | undefined;
if (values.scope !== undefined) {
  const colon = values.scope.indexOf(':');
  if (colon < 1) fail(`--scope: not <type>:<id>: ${values.scope}`);
  scope = { type: values.scope.slice(0, colon), id: values.scope.slice(colon + 1) };
}
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
    ).execute({ subjectId, role, ...(scope ? { scope } : {}) }, ctx);
    const on = scope ? ` on ${scope.type}:${scope.id}` : '';
    process.stdout.write(`revoked ${role}${on} from ${subjectId} (revision ${revision})\n`);
  } else {
    const { value: assignment, revision } = await new AssignRoleHandler(
      repository,
      systemClock,
      NO_POLICY_LISTENER,
      OPERATOR_HOLDS_EVERYTHING,
    ).execute(
      { subjectId, role, ...(expireTime ? { expireTime } : {}), ...(scope ? { scope } : {}) },
      ctx,
    );
    const until = assignment.expireTime ? ` until ${assignment.expireTime.toISOString()}` : '';
    const on = assignment.scope ? ` on ${assignment.scope.type}:${assignment.scope.id}` : '';
    process.stdout.write(
      `assigned ${assignment.role}${on} to ${assignment.subjectId}${until} (revision ${revision})\n`,
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
