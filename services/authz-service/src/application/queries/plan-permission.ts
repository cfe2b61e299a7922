import type { Access, UseCase } from '@warden/bus';
import { Violations } from '@warden/errors';
import { isPermission, plan, PERMISSION_RULE, resourceOf, type Plan } from '../../domain/index.js';
import { checkMinRevision, requireSubject } from '../fields.js';
import type { FreshPolicy } from '../fresh-policy.js';
import type { Clock } from '../ports.js';
import { PERMISSION_READ } from './check-permission.js';

export interface PlanPermission {
  subjectId: string;
  permission: string;
  /** Empty for the permission's resource part; anything else must equal it. */
  resourceType: string;
  /** The subject's session is at AAL2: `@aal2` grants apply. */
  aal2?: boolean;
  /** Answer from authz state at least this new; 0 or unset for any. */
  minRevision?: number;
}

/**
 * A filter plan for a list endpoint: which resources of one type the subject may act on, from its
 * assignments (the subject cache, as CheckPermission reads them) and the catalogue. Any service
 * may ask about any subject; a user whose token rides along, about itself, or others with
 * `permission.read`, as for CheckPermission.
 */
export class PlanPermissionHandler implements UseCase<PlanPermission, Plan & { revision: number }> {
  readonly name = 'PlanPermission';
  readonly readOnly = true;
  readonly access: Access<PlanPermission> = {
    kind: 'service',
    onBehalf: { permission: PERMISSION_READ, owners: (input) => [input.subjectId] },
  };

  constructor(
    private readonly policy: FreshPolicy,
    private readonly clock: Clock,
  ) {}

  async execute(input: PlanPermission): Promise<Plan & { revision: number }> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    if (input.permission === '') violations.add('permission', 'is required');
    else if (!isPermission(input.permission)) violations.add('permission', PERMISSION_RULE);
    else if (input.resourceType !== '' && input.resourceType !== resourceOf(input.permission)) {
      violations.add(
        'resource_type',
        `must be the permission's resource type (${resourceOf(input.permission)}) or empty`,
      );
    }
    checkMinRevision(violations, 'min_revision', input.minRevision);
    violations.throwIfAny();
    const { model, revision } = await this.policy.at(input.minRevision);
    const held = await model.assignmentsOf(input.subjectId);
    const planned = plan(
      model.roles,
      held,
      input.permission,
      resourceOf(input.permission),
      this.clock.now(),
      input.aal2 === true,
    );
    return { ...planned, revision };
  }
}
