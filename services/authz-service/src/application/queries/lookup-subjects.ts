import { createHash } from 'node:crypto';
import {
  decodePageToken,
  encodePageToken,
  pageSize,
  type Access,
  type PageRequest,
  type UseCase,
} from '@warden/bus';
import { Violations } from '@warden/errors';
import {
  holderSlices,
  isPermission,
  PERMISSION_RULE,
  type ResourceRef,
} from '../../domain/index.js';
import { checkMinRevision } from '../fields.js';
import type { FreshPolicy } from '../fresh-policy.js';
import type { AuthzRepository, Clock } from '../ports.js';
import { PERMISSION_READ } from './check-permission.js';

export interface LookupSubjects extends PageRequest {
  permission: string;
  resource?: ResourceRef;
  /** Assume every subject's session is at AAL2: `@aal2` grants count. */
  aal2?: boolean;
  /** Answer from authz state at least this new; 0 or unset for any. */
  minRevision?: number;
}

export interface SubjectPage {
  subjectIds: string[];
  nextPageToken: string;
  /** The authz revision the answer reflects. */
  revision: number;
}

/** LookupSubjects' page_size: 0 for 100, at most 1000. */
export const LOOKUP_PAGE_SIZE = { default: 100, max: 1000 };

/**
 * Who may do a permission (on a resource): exactly the subjects CheckPermission would allow with
 * the same permission, resource and assurance level, in keyset pages by subject_id. The catalogue
 * in memory names the (role, scope) slices of the assignments index that allow; the repository
 * reads one bounded range of each, so a page costs O(slices x page) rows however many subjects
 * hold the roles.
 *
 * Any service may ask; a user whose token rides along needs `permission.read` (the answer is
 * about everyone).
 */
export class LookupSubjectsHandler implements UseCase<LookupSubjects, SubjectPage> {
  readonly name = 'LookupSubjects';
  readonly readOnly = true;
  readonly access: Access<LookupSubjects> = {
    kind: 'service',
    onBehalf: { permission: PERMISSION_READ, owners: () => [undefined] },
  };

  constructor(
    private readonly policy: FreshPolicy,
    private readonly repository: Pick<AuthzRepository, 'holdersOf'>,
    private readonly clock: Clock,
  ) {}

  async execute(input: LookupSubjects): Promise<SubjectPage> {
    const violations = new Violations();
    if (input.permission === '') violations.add('permission', 'is required');
    else if (!isPermission(input.permission)) violations.add('permission', PERMISSION_RULE);
    checkMinRevision(violations, 'min_revision', input.minRevision);
    violations.throwIfAny();
    const limit = pageSize(input.pageSize, LOOKUP_PAGE_SIZE);
    const scope = tokenScope(input);
    const after = decodePageToken(input.pageToken, scope, ['key'])?.[0];
    // The holders come from the database, read after this; the catalogue naming the slices from
    // the model, or read through when the model is behind `min_revision`.
    const { model, revision } = await this.policy.at(input.minRevision, 0);
    const slices = holderSlices(model.roles, input.permission, input.resource, input.aal2 === true);
    const rows =
      slices.length === 0
        ? []
        : await this.repository.holdersOf({
            slices,
            ...(after === undefined ? {} : { after }),
            limit: limit + 1,
            now: this.clock.now(),
          });
    const subjectIds = rows.slice(0, limit);
    const last = subjectIds.at(-1);
    return {
      revision,
      subjectIds,
      nextPageToken:
        rows.length > limit && last !== undefined ? encodePageToken(scope, [last]) : '',
    };
  }
}

/**
 * What a page token is bound to: the whole question (permission, resource, level), hashed so the
 * token stays short whatever the resource's id; a token of another question is INVALID_PAGE_TOKEN.
 */
function tokenScope(input: LookupSubjects): string {
  const question = JSON.stringify([
    input.permission,
    input.resource?.type ?? '',
    input.resource?.id ?? '',
    input.resource?.ownerId ?? '',
    input.aal2 === true,
  ]);
  return `lookup:${createHash('sha256').update(question).digest('base64url')}`;
}
