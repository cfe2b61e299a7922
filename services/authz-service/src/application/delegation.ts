import { subjectOf, type CallContext, type PermissionChecker, type ResourceRef } from '@warden/bus';
import { EVERYTHING, uncoveredGrants, type Scope } from '../domain/index.js';
import { escalationDenied } from '../errors.js';
import { grantedRole } from './fields.js';
import type { GrantsHeld } from './ports.js';

/**
 * What the subject the bus authorized (the user, else the calling service's `service:<name>`)
 * holds, unscoped and, given `scope`, on it: read before a change's transaction, since a caller
 * not cached here costs one read.
 */
export const grantsOfCaller = async (
  held: GrantsHeld,
  ctx: CallContext,
  scope?: Scope,
): Promise<readonly string[]> => held.grantsHeldBy(subjectOf(ctx), scope);

/**
 * The resource `permission` (`role.assign`, `role.revoke`) is checked on for a change of `role`
 * on `scope`: the role itself (as for unscoped changes) when the caller may change it there, else
 * the scope, so a caller holding the permission on that one resource (a guild's admin) may change
 * roles on it and nowhere else.
 */
export async function roleOrScope(
  authorizer: PermissionChecker | undefined,
  permission: string,
  input: { role: string; scope?: Scope },
  ctx: CallContext,
): Promise<ResourceRef> {
  const role = grantedRole(input);
  if (input.scope === undefined || authorizer === undefined) return role;
  const onRole = await authorizer.check(
    subjectOf(ctx),
    permission,
    role,
    ctx.user?.assuranceLevel,
    ctx.minRevision,
  );
  return onRole.allowed ? role : { type: input.scope.type, id: input.scope.id };
}

/** No one hands out more than it holds: `callerGrants` must cover every grant in `wanted`, else ESCALATION_DENIED. */
export function assertMayHandOut(
  callerGrants: readonly string[],
  wanted: readonly string[],
  what: string,
): void {
  const notHeld = uncoveredGrants(callerGrants, wanted);
  if (notHeld.length > 0) throw escalationDenied(what, notHeld);
}

/** The operator CLI: it runs with the database's credentials and could write any row itself. */
export const OPERATOR_HOLDS_EVERYTHING: GrantsHeld = { grantsHeldBy: () => [EVERYTHING] };
