import type { Access, UseCase } from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
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
}

export const MAX_BATCH_CHECKS = 100;

const isWellFormed = (check: CheckPermission): boolean =>
  isSubjectId(check.subjectId) && isPermission(check.permission);

function validateCheck(violations: Violations, check: CheckPermission, prefix: string): void {
  if (isWellFormed(check)) return;
  requireSubject(violations, `${prefix}subject_id`, check.subjectId);
  if (check.permission === '') violations.add(`${prefix}permission`, 'is required');
  else if (!isPermission(check.permission)) violations.add(`${prefix}permission`, PERMISSION_RULE);
}

/** What a user may read of others' access when its token rides along (the gateway's routes). */
const PERMISSION_READ = 'permission.read';

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

  /** The answer itself, synchronous; callers from the network come through the bus (user limit). */
  answer(input: CheckPermission): Decision {
    if (!isWellFormed(input)) {
      const violations = new Violations();
      validateCheck(violations, input, '');
      violations.throwIfAny();
    }
    return this.model.decide(input.subjectId, input.permission, input.resource);
  }
}

export class CheckPermissionsHandler implements UseCase<{ checks: CheckPermission[] }, Decision[]> {
  readonly name = 'CheckPermissions';
  readonly access: Access<{ checks: CheckPermission[] }> = {
    kind: 'service',
    onBehalf: {
      permission: PERMISSION_READ,
      owners: (input) => input.checks.map((check) => check.subjectId),
    },
  };

  constructor(private readonly model: PolicyModel) {}

  async execute(input: { checks: CheckPermission[] }): Promise<Decision[]> {
    if (input.checks.length === 0 || input.checks.length > MAX_BATCH_CHECKS) {
      throw invalidArgument([
        { field: 'checks', description: `must hold 1..${MAX_BATCH_CHECKS} checks` },
      ]);
    }
    const violations = new Violations();
    input.checks.forEach((check, i) => validateCheck(violations, check, `checks[${i}].`));
    violations.throwIfAny();
    return input.checks.map((check) =>
      this.model.decide(check.subjectId, check.permission, check.resource),
    );
  }
}
