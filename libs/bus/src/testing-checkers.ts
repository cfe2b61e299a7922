import type { AssuranceLevel, Decision, PermissionChecker, ResourceRef } from './context.js';

/** For unit tests of handlers whose authorization is not the subject. */
export class AllowAllChecker implements PermissionChecker {
  async check(): Promise<Decision> {
    return { allowed: true, reason: 'allow-all test checker' };
  }
}

/**
 * In-memory authorization until a test wires the real authz-service: grants per subject, with
 * `:own` scoped grants, `@aal2` step-up grants (allow only at AAL2, else deny with
 * `stepUpRequired`) and `*` for everything. Records every question it was asked.
 */
export class TablePermissionChecker implements PermissionChecker {
  readonly asked: Array<{
    subjectId: string;
    permission: string;
    resource: ResourceRef;
    assurance?: AssuranceLevel;
  }> = [];

  constructor(private readonly grants: Record<string, readonly string[]> = {}) {}

  grant(subjectId: string, ...permissions: string[]): this {
    this.grants[subjectId] = [...(this.grants[subjectId] ?? []), ...permissions];
    return this;
  }

  async check(
    subjectId: string,
    permission: string,
    resource: ResourceRef,
    assurance?: AssuranceLevel,
  ): Promise<Decision> {
    this.asked.push({ subjectId, permission, resource, ...(assurance ? { assurance } : {}) });
    let stepUp: string | undefined;
    for (const written of this.grants[subjectId] ?? []) {
      const aal2 = written.endsWith('@aal2');
      const grant = aal2 ? written.slice(0, -'@aal2'.length) : written;
      const matches =
        grant === '*' ||
        grant === permission ||
        (grant === `${permission}:own` &&
          resource.ownerId !== undefined &&
          resource.ownerId === subjectId);
      if (!matches) continue;
      if (!aal2 || assurance === 'AAL2') return { allowed: true, reason: `granted ${written}` };
      stepUp ??= written;
    }
    if (stepUp) return { allowed: false, reason: `${stepUp} needs AAL2`, stepUpRequired: true };
    return { allowed: false, reason: `${subjectId} has no grant for ${permission}` };
  }
}
