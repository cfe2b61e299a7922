import { type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import { requireSubject } from '../fields.js';
import type { PolicyModel } from '../policy-model.js';

export interface SubjectAccess {
  roles: string[];
  permissions: string[];
}

/** A subject's effective roles and grants, after inheritance, leaving out lapsed assignments. */
export class ListSubjectPermissionsHandler implements UseCase<
  { subjectId: string },
  SubjectAccess
> {
  readonly name = 'ListSubjectPermissions';
  readonly access = permissionOn<{ subjectId: string }>('permission.read', (input) => ({
    type: 'subject',
    id: input.subjectId,
    ownerId: input.subjectId,
  }));

  constructor(private readonly model: PolicyModel) {}

  async execute(input: { subjectId: string }): Promise<SubjectAccess> {
    const violations = new Violations();
    requireSubject(violations, 'subject_id', input.subjectId);
    violations.throwIfAny();
    return this.model.access(input.subjectId);
  }
}
