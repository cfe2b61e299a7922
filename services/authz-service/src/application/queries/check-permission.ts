import type { Access, UseCase } from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  isPermission,
  isSubjectId,
  PERMISSION_RULE,
  type Decision,
  type ResourceRef,
} from '../../domain/index.js';
import { checkMinRevision, requireSubject } from '../fields.js';
import type { FreshPolicy, PolicyAt } from '../fresh-policy.js';

export interface CheckPermission {
  subjectId: string;
  permission: string;
  resource?: ResourceRef;
  /** The subject's session is at AAL2 (a second factor): `@aal2` grants apply. */
  aal2?: boolean;
  /** Answer from authz state at least this new (a write's revision); 0 or unset for any. */
  minRevision?: number;
}

/** A decision and the authz revision it reflects. */
export type RevisedDecision = Decision & { revision: number };

const isWellFormed = (check: CheckPermission): boolean =>
  isSubjectId(check.subjectId) &&
  isPermission(check.permission) &&
  (check.minRevision === undefined || check.minRevision >= 0);

export function validateCheck(
  violations: Violations,
  check: CheckPermission,
  prefix: string,
): void {
  if (isWellFormed(check)) return;
  requireSubject(violations, `${prefix}subject_id`, check.subjectId);
  if (check.permission === '') violations.add(`${prefix}permission`, 'is required');
  else if (!isPermission(check.permission)) violations.add(`${prefix}permission`, PERMISSION_RULE);
  checkMinRevision(violations, `${prefix}min_revision`, check.minRevision);
}

/** `check` decided by `policy`'s model, with the revision that model reflects. */
export function decideAt(
  { model, revision }: PolicyAt,
  check: CheckPermission,
): RevisedDecision | Promise<RevisedDecision> {
  const decision = model.decide(
    check.subjectId,
    check.permission,
    check.resource,
    check.aal2 === true,
  );
  return decision instanceof Promise
    ? decision.then((decided) => ({ ...decided, revision }))
    : { ...decision, revision };
}

/** What a user may read of others' access when its token rides along (the gateway's routes). */
export const PERMISSION_READ = 'permission.read';

/**
 * Any authenticated service may ask about any subject; a user whose token it carries may ask
 * about itself, or others with permission.read. A denial is an answer, not an error.
 */
export class CheckPermissionHandler implements UseCase<CheckPermission, RevisedDecision> {
  readonly name = 'CheckPermission';
  readonly readOnly = true;
  readonly access: Access<CheckPermission> = {
    kind: 'service',
    onBehalf: { permission: PERMISSION_READ, owners: (input) => [input.subjectId] },
  };

  constructor(private readonly policy: FreshPolicy) {}

  async execute(input: CheckPermission): Promise<RevisedDecision> {
    return this.answer(input);
  }

  /**
   * The answer itself, synchronous for a cached subject when no newer revision is asked for;
   * callers from the network come through the bus.
   */
  answer(input: CheckPermission): RevisedDecision | Promise<RevisedDecision> {
    if (!isWellFormed(input)) {
      const violations = new Violations();
      validateCheck(violations, input, '');
      violations.throwIfAny();
    }
    const at = this.policy.at(input.minRevision);
    return at instanceof Promise ? at.then((ready) => decideAt(ready, input)) : decideAt(at, input);
  }
}
