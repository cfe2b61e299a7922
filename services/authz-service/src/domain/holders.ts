import { isActive, isScopeId, isScopeType, type HeldRole, type Scope } from './assignment.js';
import type { ResourceRef } from './decide.js';
import type { GrantMatch } from './grant-index.js';
import type { RoleCatalogue } from './role-catalogue.js';
import { isSubjectId } from './subject.js';

/**
 * "Who may do P" and "on which resources may S do P", answered from the catalogue: which roles
 * grant a permission, and how, after inheritance and wildcards, with `:own` and `@aal2` resolved.
 * The same rules as {@link decide}, read the other way round; the property tests hold them equal.
 */

/** How one role's effective grants cover a permission at an assurance level. */
export type Coverage = 'anyone' | 'owner';

/**
 * How `match` (a role's grants covering the permission) allows at this level: `anyone` when the
 * owner does not matter, `owner` when only for a resource the subject owns, undefined when not
 * at all. `@aal2` grants count only at `aal2`.
 */
export function coverageOf(match: GrantMatch, aal2: boolean): Coverage | undefined {
  if (match.unscoped || (aal2 && match.unscopedAal2)) return 'anyone';
  if (match.own || (aal2 && match.ownAal2)) return 'owner';
  return undefined;
}

/** Each role of the catalogue whose grants cover `permission` at this level, by name. */
export function rolesGranting(
  catalogue: RoleCatalogue,
  permission: string,
  aal2: boolean,
): Array<{ role: string; coverage: Coverage }> {
  const granting: Array<{ role: string; coverage: Coverage }> = [];
  for (const { name } of catalogue.list()) {
    const coverage = coverageOf(catalogue.grantsOf(name)!.match(permission), aal2);
    if (coverage) granting.push({ role: name, coverage });
  }
  return granting;
}

/**
 * One slice of the assignments index whose unexpired holders are allowed: the holders of `role`
 * on `scope` (unscoped when undefined), only `subjectId` when set (an `:own` grant: the owner).
 */
export interface HolderSlice {
  role: string;
  scope?: Scope;
  subjectId?: string;
}

/**
 * The slices of the assignments index whose unexpired holders are exactly the subjects allowed to
 * do `permission` on `resource` (decide's rules read backwards):
 * - a role covering it for anyone: its unscoped holders, and its holders on `resource` itself
 *   (type and id) when the resource names both;
 * - a role covering it only for the owner (`:own`): the same two, limited to `resource.owner_id`,
 *   so at most that one subject; none without an owner.
 * Without a resource that leaves the unscoped holders of roles that grant it without `:own`. A
 * type and id no scope can have, or an owner no subject can be, name no slice (nothing is stored
 * under them, and no such text reaches the database).
 */
export function holderSlices(
  catalogue: RoleCatalogue,
  permission: string,
  resource: ResourceRef | undefined,
  aal2: boolean,
): HolderSlice[] {
  const scope: Scope | undefined =
    resource?.type !== undefined &&
    resource.id !== undefined &&
    isScopeType(resource.type) &&
    isScopeId(resource.id)
      ? { type: resource.type, id: resource.id }
      : undefined;
  const ownerId =
    resource?.ownerId !== undefined && isSubjectId(resource.ownerId) ? resource.ownerId : undefined;
  const slices: HolderSlice[] = [];
  for (const { role, coverage } of rolesGranting(catalogue, permission, aal2)) {
    if (coverage === 'owner' && ownerId === undefined) continue;
    const only = coverage === 'owner' ? { subjectId: ownerId! } : {};
    slices.push({ role, ...only });
    if (scope) slices.push({ role, scope, ...only });
  }
  return slices;
}

export type PlanKind = 'ALWAYS_ALLOWED' | 'ALWAYS_DENIED' | 'CONDITIONAL';

/**
 * The resources of one type a subject may act on: all (`ALWAYS_ALLOWED`), none (`ALWAYS_DENIED`),
 * or those it owns (`ownerOnly`) or whose id is in `scopedResourceIds` (`CONDITIONAL`).
 */
export interface Plan {
  kind: PlanKind;
  ownerOnly: boolean;
  /** Sorted, without duplicates. */
  scopedResourceIds: string[];
  /** Some resources would be allowed only at AAL2: an `@aal2` grant would widen the plan. */
  stepUpRequired: boolean;
}

/**
 * Plans `permission` on resources of `resourceType` (the permission's resource part) for a
 * subject holding `held`, from the same rules as {@link decide}:
 * - an unscoped assignment covering it for anyone: every resource (`ALWAYS_ALLOWED`);
 * - an unscoped `:own` one: the subject's own resources (`ownerOnly`);
 * - one scoped on a resource of the type covering it for anyone: that resource's id;
 * - one scoped with only `:own`: nothing. It allows its resource only when the subject also owns
 *   it, an AND the plan cannot express; the plan leaves it out rather than allow that resource
 *   whoever owns it, so a plan never allows what a check would refuse (its `:own` resources are
 *   listed anyway when an unscoped `:own` grant makes the plan `ownerOnly`);
 * - one scoped on another type applies to no resource of this type.
 * `stepUpRequired` when the plan at AAL2 would allow more than this one (never at AAL2 itself).
 */
export function plan(
  catalogue: RoleCatalogue,
  held: readonly HeldRole[] | undefined,
  permission: string,
  resourceType: string,
  now: Date,
  aal2 = false,
): Plan {
  const here = planAt(catalogue, held ?? [], permission, resourceType, now, aal2);
  if (aal2 || here.kind === 'ALWAYS_ALLOWED') return here;
  const atAal2 = planAt(catalogue, held ?? [], permission, resourceType, now, true);
  return { ...here, stepUpRequired: widens(atAal2, here) };
}

function planAt(
  catalogue: RoleCatalogue,
  held: readonly HeldRole[],
  permission: string,
  resourceType: string,
  now: Date,
  aal2: boolean,
): Plan {
  let ownerOnly = false;
  const scoped = new Set<string>();
  for (const assignment of held) {
    if (!isActive(assignment, now)) continue;
    const grants = catalogue.grantsOf(assignment.role);
    if (!grants) continue;
    const coverage = coverageOf(grants.match(permission), aal2);
    if (!coverage) continue;
    const { scope } = assignment;
    if (!scope) {
      if (coverage === 'anyone') return always('ALWAYS_ALLOWED');
      ownerOnly = true;
    } else if (scope.type === resourceType && coverage === 'anyone') scoped.add(scope.id);
  }
  if (!ownerOnly && scoped.size === 0) return always('ALWAYS_DENIED');
  return {
    kind: 'CONDITIONAL',
    ownerOnly,
    scopedResourceIds: [...scoped].sort(compare),
    stepUpRequired: false,
  };
}

/** Whether `wider` allows a resource `narrower` does not. */
function widens(wider: Plan, narrower: Plan): boolean {
  if (wider.kind === 'ALWAYS_DENIED' || narrower.kind === 'ALWAYS_ALLOWED') return false;
  if (wider.kind === 'ALWAYS_ALLOWED') return true;
  if (wider.ownerOnly && !narrower.ownerOnly) return true;
  const have = new Set(narrower.scopedResourceIds);
  return wider.scopedResourceIds.some((id) => !have.has(id));
}

/** Whether `plan` allows a resource of its type with this id and owner, for `subjectId`. */
export function planAllows(
  planned: Plan,
  subjectId: string,
  resource: { id: string; ownerId: string },
): boolean {
  switch (planned.kind) {
    case 'ALWAYS_ALLOWED':
      return true;
    case 'ALWAYS_DENIED':
      return false;
    case 'CONDITIONAL':
      return (
        (planned.ownerOnly && resource.ownerId !== '' && resource.ownerId === subjectId) ||
        planned.scopedResourceIds.includes(resource.id)
      );
  }
}

const always = (kind: 'ALWAYS_ALLOWED' | 'ALWAYS_DENIED'): Plan => ({
  kind,
  ownerOnly: false,
  scopedResourceIds: [],
  stepUpRequired: false,
});

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
