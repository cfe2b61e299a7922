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
