import type { Access, UseCase } from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
import type { Decision } from '../../domain/index.js';
import type { PolicyModel } from '../policy-model.js';
import { PERMISSION_READ, validateCheck, type CheckPermission } from './check-permission.js';

export const MAX_BATCH_CHECKS = 100;

/** CheckPermission for up to MAX_BATCH_CHECKS checks at once, answered in request order. */
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
    return Promise.all(
      input.checks.map((check) =>
        this.model.decide(check.subjectId, check.permission, check.resource, check.aal2 === true),
      ),
    );
  }
}
