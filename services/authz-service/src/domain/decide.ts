import { isActive, type HeldRole } from './assignment.js';
import type { GrantOrigin } from './grant-index.js';
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

/**
 * May `subjectId` do `permission` on `resource`, holding `assignments`? Lapsed assignments count
 * for nothing. `@aal2` grants apply only when `aal2` (the subject's session has a second factor).
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
  for (const assignment of assignments ?? []) {
    if (!isActive(assignment, now)) continue;
    const grants = catalogue.grantsOf(assignment.role);
    if (!grants) continue;
    activeRoles++;
    const match = grants.match(permission);
    if (match.unscoped) return allow(assignment.role, match.unscoped, '');
    if (match.own) {
      if (ownerMatches) return allow(assignment.role, match.own, ' (owner matches)');
      scopedOnly ??= match.own;
    }
    const atAal2 = match.unscopedAal2 ?? (ownerMatches ? match.ownAal2 : undefined);
    if (atAal2) {
      const suffix = atAal2 === match.unscopedAal2 ? ' at AAL2' : ' at AAL2 (owner matches)';
      if (aal2) return allow(assignment.role, atAal2, suffix);
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
  if (activeRoles === 0)
    return { allowed: false, reason: `subject holds no role (none grants ${permission})` };
  return { allowed: false, reason: `no role grants ${permission}` };
}

function allow(assigned: string, origin: GrantOrigin, suffix: string): Decision {
  const via = origin.role === assigned ? '' : ` via ${origin.role}`;
  return { allowed: true, reason: `role ${assigned} grants ${origin.grant}${via}${suffix}` };
}

/** A subject's effective roles (held and inherited) and their grants as written, both sorted. */
export function effectiveAccess(
  catalogue: RoleCatalogue,
  assignments: readonly HeldRole[] | undefined,
  now: Date,
): { roles: string[]; permissions: string[] } {
  const roles = new Set<string>();
  const permissions = new Set<string>();
  for (const assignment of assignments ?? []) {
    if (!isActive(assignment, now) || !catalogue.has(assignment.role)) continue;
    for (const name of catalogue.closure(assignment.role)) roles.add(name);
    for (const grant of catalogue.grantsOf(assignment.role)!.grants) permissions.add(grant);
  }
  return { roles: [...roles].sort(), permissions: [...permissions].sort() };
}
