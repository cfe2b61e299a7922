import { type CallContext, type PermissionChecker, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  RoleCatalogue,
  roleRevoked,
  rolesGrantingEverything,
  sameScope,
  scopeViolations,
  type AuthzEvent,
  type Scope,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { roleOrScope } from '../delegation.js';
import { requireRoleName, requireSubject } from '../fields.js';
import { assertKeepsAnAdmin } from '../keep-an-admin.js';
import type { AuthzRepository, Clock, PolicyChangeListener } from '../ports.js';
import { revisionAfter } from '../revisions.js';

export interface RevokeRole {
  subjectId: string;
  role: string;
  /** The assignment on this scope; unset for the unscoped one. */
  scope?: Scope;
}

/** Returns the revision of the write, or the current one when the subject did not hold the role. */
export class RevokeRoleHandler implements UseCase<RevokeRole, number> {
  readonly name = 'RevokeRole';
  /** `role.revoke` on the role; for a scoped assignment, on the scope itself will do. */
  readonly access = permissionOn<RevokeRole>('role.revoke', (input, ctx) =>
    roleOrScope(this.authorizer, 'role.revoke', input, ctx),
  );

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
    /**
     * The bus's authorizer: whether the caller may revoke the role everywhere or on a scope.
     * Without it (the operator CLI, which runs no bus), the role is the resource checked.
     */
    private readonly authorizer?: PermissionChecker,
  ) {}

  async execute(input: RevokeRole, ctx: CallContext): Promise<number> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    requireRoleName(violations, 'role', input.role);
    for (const { field, description } of input.scope ? scopeViolations(input.scope) : [])
      violations.add(field, description);
    violations.throwIfAny();
    const { scope } = input;
    // Under the catalogue lock: two admins revoking each other cannot both succeed.
    const events = await this.repository.updateCatalogue(async (state) => {
      const catalogue = new RoleCatalogue(state.roles);
      if (!catalogue.has(input.role)) throw roleNotFound(input.role);
      const held = await state.assignmentsOf(input.subjectId);
      // Revoking a role the subject does not hold there succeeds quietly: the end state is the same.
      if (!held.some((a) => a.role === input.role && sameScope(a.scope, scope)))
        return { events: [], result: [] };
      // Only unscoped holders of `*` count as admins: a scoped one may always go.
      if (scope === undefined && rolesGrantingEverything(catalogue).includes(input.role))
        await assertKeepsAnAdmin(
          state,
          { before: catalogue, after: catalogue },
          this.clock.now(),
          `revoking ${input.role}`,
          input,
        );
      const key = { subjectId: input.subjectId, role: input.role, ...(scope ? { scope } : {}) };
      const revoked: AuthzEvent[] = [roleRevoked(key, 'REVOKED', this.clock.now())];
      return { deleteAssignments: [key], events: revoked, result: revoked };
    }, ctx);
    if (events.length > 0) await this.listener.committed(events);
    return revisionAfter(events, this.repository);
  }
}
