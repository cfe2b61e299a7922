import type { PermissionChecker, ResourceRef as BusResourceRef } from '@warden/bus';
import {
  decide,
  effectiveAccess,
  RoleCatalogue,
  type Decision,
  type ResourceRef,
  type RoleAssignment,
} from '../domain/index.js';
import type { Clock, GrantsHeld } from './ports.js';

/**
 * The in-memory policy every check is answered from: the role catalogue (permissions flattened
 * over inheritance) and each subject's assignments. A warm check touches no database; PolicySync
 * keeps it current from the database and authz events.
 */
export class PolicyModel implements PermissionChecker, GrantsHeld {
  private catalogue = new RoleCatalogue([]);
  private readonly bySubject = new Map<string, readonly RoleAssignment[]>();

  constructor(private readonly clock: Clock) {}

  get roles(): RoleCatalogue {
    return this.catalogue;
  }

  decide(subjectId: string, permission: string, resource?: ResourceRef): Decision {
    return decide(
      this.catalogue,
      this.bySubject.get(subjectId),
      subjectId,
      permission,
      resource,
      this.clock.now(),
    );
  }

  /** The bus's authorizer inside authz-service itself: no network hop. */
  async check(subjectId: string, permission: string, resource: BusResourceRef): Promise<Decision> {
    return this.decide(subjectId, permission, resource);
  }

  access(subjectId: string): { roles: string[]; permissions: string[] } {
    return effectiveAccess(this.catalogue, this.bySubject.get(subjectId), this.clock.now());
  }

  grantsHeldBy(subjectId: string): readonly string[] {
    return this.access(subjectId).permissions;
  }

  assignmentsOf(subjectId: string): readonly RoleAssignment[] {
    return this.bySubject.get(subjectId) ?? [];
  }

  subjectIds(): string[] {
    return [...this.bySubject.keys()];
  }

  replaceSubject(subjectId: string, assignments: readonly RoleAssignment[]): void {
    if (assignments.length === 0) this.bySubject.delete(subjectId);
    else this.bySubject.set(subjectId, [...assignments]);
  }

  /**
   * Swaps in a new catalogue. Assignments of roles that no longer exist are dropped, so a role
   * created again under the same name does not revive them; returns the subjects that lost one.
   */
  replaceCatalogue(catalogue: RoleCatalogue): string[] {
    const removed = this.catalogue.list().filter((role) => !catalogue.has(role.name));
    this.catalogue = catalogue;
    if (removed.length === 0) return [];
    const gone = new Set(removed.map((role) => role.name));
    const touched: string[] = [];
    for (const [subjectId, assignments] of this.bySubject) {
      if (!assignments.some((a) => gone.has(a.role))) continue;
      this.replaceSubject(
        subjectId,
        assignments.filter((a) => !gone.has(a.role)),
      );
      touched.push(subjectId);
    }
    return touched;
  }
}
