import { Violations } from '@warden/errors';
import { isUuid } from '../domain/session-id.js';

/** Checks that required id fields are UUIDs and optional ones empty or UUIDs, reporting all at once. */
export function requireIds(fields: Record<string, { value: string; optional?: boolean }>): void {
  const violations = new Violations();
  for (const [field, { value, optional }] of Object.entries(fields)) {
    if (value === '' && optional) continue;
    if (value === '') violations.add(field, 'is required');
    else if (!isUuid(value)) violations.add(field, 'must be a UUID');
  }
  violations.throwIfAny();
}
