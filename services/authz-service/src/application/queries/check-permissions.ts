import type { Access, UseCase } from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
import type { FreshPolicy } from '../fresh-policy.js';
import {
  decideAt,
  PERMISSION_READ,
  validateCheck,
  type CheckPermission,
  type RevisedDecision,
} from './check-permission.js';

export const MAX_BATCH_CHECKS = 100;

/**
 * CheckPermission for up to MAX_BATCH_CHECKS checks at once, answered in request order, all from
 * one policy state: at least as new as the highest `minRevision` of the batch.
 */
export class CheckPermissionsHandler implements UseCase<
  { checks: CheckPermission[] },
  RevisedDecision[]
> {
  readonly name = 'CheckPermissions';
  readonly readOnly = true;
  readonly access: Access<{ checks: CheckPermission[] }> = {
    kind: 'service',
    onBehalf: {
      permission: PERMISSION_READ,
      owners: (input) => input.checks.map((check) => check.subjectId),
    },
  };

  constructor(private readonly policy: FreshPolicy) {}

  async execute(input: { checks: CheckPermission[] }): Promise<RevisedDecision[]> {
    if (input.checks.length === 0 || input.checks.length > MAX_BATCH_CHECKS) {
      throw invalidArgument([
        { field: 'checks', description: `must hold 1..${MAX_BATCH_CHECKS} checks` },
      ]);
    }
    const violations = new Violations();
    input.checks.forEach((check, i) => validateCheck(violations, check, `checks[${i}].`));
    violations.throwIfAny();
    const minRevision = Math.max(0, ...input.checks.map((check) => check.minRevision ?? 0));
    const subjects = new Set(input.checks.map((check) => check.subjectId)).size;
    const at = await this.policy.at(minRevision, subjects);
    return Promise.all(input.checks.map((check) => decideAt(at, check)));
  }
}
