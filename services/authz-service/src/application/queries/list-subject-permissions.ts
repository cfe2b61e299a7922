import { type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import type { ScopedAccess } from '../../domain/index.js';
import { checkMinRevision, requireSubject } from '../fields.js';
import type { FreshPolicy } from '../fresh-policy.js';

export interface SubjectAccess {
  /** Unscoped effective roles and grants. */
  roles: string[];
  permissions: string[];
  /** One entry per scope the subject holds a role on, by scope type then id. */
  scoped: ScopedAccess[];
  /** The authz revision the answer reflects. */
  revision: number;
}

export interface ListSubjectPermissions {
  subjectId: string;
  /** Answer from authz state at least this new; 0 or unset for any. */
  minRevision?: number;
}

/** A subject's effective roles and grants, after inheritance, leaving out lapsed assignments. */
export class ListSubjectPermissionsHandler implements UseCase<
  ListSubjectPermissions,
  SubjectAccess
> {
  readonly name = 'ListSubjectPermissions';
  readonly readOnly = true;
  readonly access = permissionOn<ListSubjectPermissions>('permission.read', (input) => ({
    type: 'subject',
    id: input.subjectId,
    ownerId: input.subjectId,
  }));

  constructor(private readonly policy: FreshPolicy) {}

  async execute(input: ListSubjectPermissions): Promise<SubjectAccess> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    checkMinRevision(violations, 'min_revision', input.minRevision);
    violations.throwIfAny();
    const { model, revision } = await this.policy.at(input.minRevision);
    return { ...(await model.access(input.subjectId)), revision };
  }
}
