import { invalidArgument, type FieldViolation } from '@warden/errors';

/** The resource a role is granted on (a scoped grant): a resource type and one id of it. */
export interface Scope {
  type: string;
  id: string;
}

export interface RoleAssignment {
  subjectId: string;
  role: string;
  /** Unset for a permanent grant. */
  expireTime?: Date;
  /** When the role was (last) assigned. */
  createTime: Date;
  /** Unset for a grant that applies everywhere; else only to checks on exactly this resource. */
  scope?: Scope;
  /** The session the grant lapses with (it also has an expireTime); unset when unbound. */
  boundSessionId?: string;
}

/** What a decision needs of an assignment: which role, where, and until when. */
export type HeldRole = Pick<RoleAssignment, 'role' | 'expireTime' | 'scope'>;

/** A grant lapses at its expire_time by itself, whether or not a sweeper has removed it yet. */
export const isActive = (assignment: HeldRole, now: Date): boolean =>
  assignment.expireTime === undefined || assignment.expireTime.getTime() > now.getTime();

/** A scope type is a permission's resource part: `guild`, `game_server`. */
const SCOPE_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
/** 1..128 characters, none of them control, format or unassigned ones. */
const SCOPE_ID = /^[^\p{C}]{1,128}$/u;

export const SCOPE_TYPE_RULE =
  'must be a resource type: lower-case letters, digits and _, starting with a letter (at most 64)';
export const SCOPE_ID_RULE = 'must be 1..128 printable characters';

export const isScopeType = (value: string): boolean => SCOPE_TYPE.test(value);
export const isScopeId = (value: string): boolean => SCOPE_ID.test(value);

/** The violations of a scope given in a request, under `field` (`scope`). */
export function scopeViolations(scope: Scope, field = 'scope'): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (scope.type === '') violations.push({ field: `${field}.type`, description: 'is required' });
  else if (!isScopeType(scope.type))
    violations.push({ field: `${field}.type`, description: SCOPE_TYPE_RULE });
  if (scope.id === '') violations.push({ field: `${field}.id`, description: 'is required' });
  else if (!isScopeId(scope.id))
    violations.push({ field: `${field}.id`, description: SCOPE_ID_RULE });
  return violations;
}

/** Whether two optional scopes are the same place (both unset: unscoped). */
export const sameScope = (a: Scope | undefined, b: Scope | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.type === b.type && a.id === b.id;

/** `guild:42`, or `everywhere` for no scope: how reasons and messages name a scope. */
export const describeScope = (scope: Scope | undefined): string =>
  scope === undefined ? 'everywhere' : `${scope.type}:${scope.id}`;

/**
 * Unscoped first, then by type and id: the order of assignments of one subject and role. Code
 * point order, as Postgres's "C" collation sorts.
 */
export const compareScopes = (a: Scope | undefined, b: Scope | undefined): number =>
  compareText(a?.type ?? '', b?.type ?? '') || compareText(a?.id ?? '', b?.id ?? '');

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function newAssignment(
  input: {
    subjectId: string;
    role: string;
    expireTime?: Date;
    scope?: Scope;
    boundSessionId?: string;
  },
  now: Date,
): RoleAssignment {
  const violations: FieldViolation[] = [];
  if (input.expireTime !== undefined && input.expireTime.getTime() <= now.getTime())
    violations.push({ field: 'expire_time', description: 'must be in the future' });
  if (input.scope !== undefined) violations.push(...scopeViolations(input.scope));
  if (input.boundSessionId !== undefined) {
    if (input.expireTime === undefined)
      violations.push({ field: 'expire_time', description: 'is required with bound_session_id' });
    if (!isSessionId(input.boundSessionId))
      violations.push({ field: 'bound_session_id', description: SESSION_ID_RULE });
  }
  if (violations.length > 0) throw invalidArgument(violations);
  return {
    subjectId: input.subjectId,
    role: input.role,
    ...(input.expireTime === undefined ? {} : { expireTime: input.expireTime }),
    createTime: now,
    ...(input.scope === undefined ? {} : { scope: { type: input.scope.type, id: input.scope.id } }),
    ...(input.boundSessionId === undefined ? {} : { boundSessionId: input.boundSessionId }),
  };
}

/** Session ids are UUIDs (v7), lower-case. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const SESSION_ID_RULE = 'must be a session id (UUID, lower-case)';
export const isSessionId = (value: string): boolean => SESSION_ID.test(value);
