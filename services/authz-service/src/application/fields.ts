import type { ResourceRef } from '@warden/bus';
import type { Violations } from '@warden/errors';
import { isRoleName, isSubjectId, ROLE_NAME_RULE, SUBJECT_RULE } from '../domain/index.js';

export function requireSubject(violations: Violations, field: string, value: string): void {
  if (value === '') violations.add(field, 'is required');
  else if (!isSubjectId(value)) violations.add(field, SUBJECT_RULE);
}

export function requireRoleName(violations: Violations, field: string, value: string): void {
  if (value === '') violations.add(field, 'is required');
  else if (!isRoleName(value)) violations.add(field, ROLE_NAME_RULE);
}

export function checkRequestId(violations: Violations, value: string | undefined): void {
  if (value !== undefined && value.length > 128)
    violations.add('request_id', 'at most 128 characters');
}

/** The role a request names, as the resource its permission is checked on. */
export const namedRole = (input: { name: string }): ResourceRef => ({
  type: 'role',
  id: input.name,
});
export const grantedRole = (input: { role: string }): ResourceRef => ({
  type: 'role',
  id: input.role,
});

/** A `min_revision` given: 0 (or unset) asks for nothing, a negative one is malformed. */
export function checkMinRevision(violations: Violations, field: string, value?: number): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
    violations.add(field, 'must be 0 or a revision an authz write returned');
}
