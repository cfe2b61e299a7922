import type { Decision, PermissionChecker, ResourceRef } from './context.js';

/** For unit tests of handlers whose authorization is not the subject. */
export class AllowAllChecker implements PermissionChecker {
  async check(): Promise<Decision> {
    return { allowed: true, reason: 'allow-all test checker' };
  }
}

/**
 * In-memory authorization until a test wires the real authz-service: grants per subject, with
 * `:own` scoped grants and `*` for everything. Records every question it was asked.
 */
export class TablePermissionChecker implements PermissionChecker {
  readonly asked: Array<{ subjectId: string; permission: string; resource: ResourceRef }> = [];

  constructor(private readonly grants: Record<string, readonly string[]> = {}) {}

  grant(subjectId: string, ...permissions: string[]): this {
    this.grants[subjectId] = [...(this.grants[subjectId] ?? []), ...permissions];
    return this;
  }

  async check(subjectId: string, permission: string, resource: ResourceRef): Promise<Decision> {
    this.asked.push({ subjectId, permission, resource });
    for (const grant of this.grants[subjectId] ?? []) {
      if (grant === '*' || grant === permission)
        return { allowed: true, reason: `granted ${grant}` };
      if (
        grant === `${permission}:own` &&
        resource.ownerId !== undefined &&
        resource.ownerId === subjectId
      ) {
        return { allowed: true, reason: `granted ${grant}` };
      }
    }
    return { allowed: false, reason: `${subjectId} has no grant for ${permission}` };
  }
}
