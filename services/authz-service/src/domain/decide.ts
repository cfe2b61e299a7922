import {
  compareScopes,
  describeScope,
  isActive,
  sameScope,
  type HeldRole,
  type Scope,
} from './assignment.js';
import type { GrantMatch, GrantOrigin } from './grant-index.js';
import type { RoleCatalogue } from './role-catalogue.js';

export interface Decision {
  allowed: boolean;
  reason: string;
  /** Denied only for want of a second factor: an `@aal2` grant would allow it at AAL2. */
  stepUpRequired?: boolean;
}

export interface ResourceRef {
  type?: string;
  id?: string;
  ownerId?: string;
}

/** Whether an assignment's grants reach `resource`: unscoped ones everywhere, scoped ones only there. */
export const appliesTo = (scope: Scope | undefined, resource: ResourceRef | undefined): boolean =>
  scope === undefined || (resource?.type === scope.type && resource.id === scope.id);

/**
 * May `subjectId` do `permission` on `resource`, holding `assignments`? Lapsed assignments count
 * for nothing; a scoped assignment counts only when `resource` is its scope (type and id). `@aal2` grants apply only when `aal2` (the subject's session has a second factor).
 * The reason names the assigned role and the grant that decided, or why none did; a denial that
 * an `@aal2` grant would have allowed at AAL2 says so (`stepUpRequired`).
 */
export function decide(
  catalogue: RoleCatalogue,
  assignments: readonly HeldRole[] | undefined,
  subjectId: string,
  permission: string,
  resource: ResourceRef | undefined,
  now: Date,
  aal2 = false,
): Decision {
  const ownerMatches = !!resource?.ownerId && resource.ownerId === subjectId;
  let scopedOnly: GrantOrigin | undefined;
  let stepUp: GrantOrigin | undefined;
  let activeRoles = 0;
  /** An active scoped assignment on another resource: named by a denial if nothing else is. */
  let elsewhere: HeldRole | undefined;
  for (const assignment of assignments ?? []) {
    if (!isActive(assignment, now)) continue;
    const grants = catalogue.grantsOf(assignment.role);
    if (!grants) continue;
    activeRoles++;
    if (!appliesTo(assignment.scope, resource)) {
      if (!elsewhere && hasAnyGrant(grants.match(permission))) elsewhere = assignment;
      continue;
    }
    const match = grants.match(permission);
    if (match.unscoped) return allow(assignment, match.unscoped, '');
    if (match.own) {
      if (ownerMatches) return allow(assignment, match.own, ' (owner matches)');
      scopedOnly ??= match.own;
    }
    const atAal2 = match.unscopedAal2 ?? (ownerMatches ? match.ownAal2 : undefined);
    if (atAal2) {
      const suffix = atAal2 === match.unscopedAal2 ? ' at AAL2' : ' at AAL2 (owner matches)';
      if (aal2) return allow(assignment, atAal2, suffix);
      stepUp ??= atAal2;
    } else if (match.ownAal2) scopedOnly ??= match.ownAal2;
  }
  if (stepUp) {
    return {
      allowed: false,
      reason: `${stepUp.grant} needs a session completed with a second factor (AAL2)`,
      stepUpRequired: true,
    };
  }
  if (scopedOnly) {
    const owner = resource?.ownerId ? 'it is owned by someone else' : 'the resource names no owner';
    return {
      allowed: false,
      reason: `${scopedOnly.grant} needs owner_id == subject_id, but ${owner}`,
    };
  }
  if (elsewhere) {
    return {
      allowed: false,
      reason: `role ${elsewhere.role} grants ${permission} only on ${describeScope(elsewhere.scope)}`,
    };
  }
  if (activeRoles === 0)
    return { allowed: false, reason: `subject holds no role (none grants ${permission})` };
  return { allowed: false, reason: `no role grants ${permission}` };
}

const hasAnyGrant = (match: GrantMatch): boolean =>
  !!(match.unscoped ?? match.own ?? match.unscopedAal2 ?? match.ownAal2);

function allow(assignment: HeldRole, origin: GrantOrigin, suffix: string): Decision {
  const assigned = assignment.role;
  const on = assignment.scope ? ` on ${describeScope(assignment.scope)}` : '';
  const via = origin.role === assigned ? '' : ` via ${origin.role}`;
  return { allowed: true, reason: `role ${assigned}${on} grants ${origin.grant}${via}${suffix}` };
}

export interface EffectiveAccess {
  roles: string[];
  permissions: string[];
}

/** Effective roles and grants on one scope. */
export interface ScopedAccess extends EffectiveAccess {
  scope: Scope;
}

/**
 * A subject's effective roles (held and inherited) and their grants as written, both sorted, of
 * its active assignments on `scope` (unset: the unscoped ones only).
 */
export function effectiveAccess(
  catalogue: RoleCatalogue,
  assignments: readonly HeldRole[] | undefined,
  now: Date,
  scope?: Scope,
): EffectiveAccess {
  const roles = new Set<string>();
  const permissions = new Set<string>();
  for (const assignment of assignments ?? []) {
    if (!isActive(assignment, now) || !catalogue.has(assignment.role)) continue;
    if (!sameScope(assignment.scope, scope)) continue;
    for (const name of catalogue.closure(assignment.role)) roles.add(name);
    for (const grant of catalogue.grantsOf(assignment.role)!.grants) permissions.add(grant);
  }
  return { roles: [...roles].sort(), permissions: [...permissions].sort() };
}

/** One entry per scope the subject holds an active role on, ordered by scope type then id. */
export function scopedAccess(
  catalogue: RoleCatalogue,
  assignments: readonly HeldRole[] | undefined,
  now: Date,
): ScopedAccess[] {
  const scopes: Scope[] = [];
  for (const assignment of assignments ?? []) {
    const { scope } = assignment;
    if (!scope || !isActive(assignment, now) || !catalogue.has(assignment.role)) continue;
    if (!scopes.some((known) => sameScope(known, scope))) scopes.push(scope);
  }
  return scopes
    .sort(compareScopes)
    .map((scope) => ({ scope, ...effectiveAccess(catalogue, assignments, now, scope) }));
}
