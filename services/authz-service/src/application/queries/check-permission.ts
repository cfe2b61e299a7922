import type { Access, UseCase } from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  isPermission,
  isSubjectId,
  PERMISSION_RULE,
  type Decision,
  type ResourceRef,
} from '../../domain/index.js';
import { requireSubject } from '../fields.js';
import type { PolicyModel } from '../policy-model.js';

export interface CheckPermission {
  subjectId: string;
  permission: string;
  resource?: ResourceRef;
  /** The subject's session is at AAL2 (a second factor): `@aal2` grants apply. */
  aal2?: boolean;
}

const isWellFormed = (check: CheckPermission): boolean =>
  isSubjectId(check.subjectId) && isPermission(check.permission);

export function validateCheck(
  violations: Violations,
  check: CheckPermission,
  prefix: string,
): void {
  if (isWellFormed(check)) return;
  requireSubject(violations, `${prefix}subject_id`, check.subjectId);
  if (check.permission === '') violations.add(`${prefix}permission`, 'is required');
  else if (!isPermission(check.permission)) violations.add(`${prefix}permission`, PERMISSION_RULE);
}

/** What a user may read of others' access when its token rides along (the gateway's routes). */
export const PERMISSION_READ = 'permission.read';

/**
 * Any authenticated service may ask about any subject; a user whose token it carries may ask
 * about itself, or others with permission.read. A denial is an answer, not an error.
 */
export class CheckPermissionHandler implements UseCase<CheckPermission, Decision> {
  readonly name = 'CheckPermission';
  readonly access: Access<CheckPermission> = {
    kind: 'service',
    onBehalf: { permission: PERMISSION_READ, owners: (input) => [input.subjectId] },
  };

  constructor(private readonly model: PolicyModel) {}

  async execute(input: CheckPermission): Promise<Decision> {
    return this.answer(input);
  }

  /** The answer itself, synchronous for a cached subject; callers from the network come through the bus. */
  answer(input: CheckPermission): Decision | Promise<Decision> {
    if (!isWellFormed(input)) {
      const violations = new Violations();
      validateCheck(violations, input, '');
      violations.throwIfAny();
    }
    return this.model.decide(
      input.subjectId,
      input.permission,
      input.resource,
      input.aal2 === true,
    );
  }
}
