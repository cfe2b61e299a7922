import { Violations } from '@warden/errors';
import { builtInRole } from '../errors.js';
import { GRANT_RULE, isGrant } from './permission.js';

export interface Role {
  name: string;
  description: string;
  /** Grants, sorted and deduplicated. */
  permissions: readonly string[];
  /** Names of inherited roles, sorted and deduplicated. */
  inherits: readonly string[];
  builtIn: boolean;
  createTime: Date;
  updateTime: Date;
}

export type RoleField = 'description' | 'permissions' | 'inherits';
export const ROLE_FIELDS: readonly RoleField[] = ['description', 'permissions', 'inherits'];

const ROLE_NAME = /^[a-z][a-z0-9_-]{0,63}$/;
export const ROLE_NAME_RULE = '1..64 lower-case letters, digits, _ or -, starting with a letter';
const MAX_DESCRIPTION = 500;
const MAX_GRANTS = 500;
const MAX_INHERITS = 50;

export const isRoleName = (value: string): boolean => ROLE_NAME.test(value);

export const ADMIN_ROLE = 'admin';
export const EVERYTHING = '*';

export interface RoleDraft {
  name: string;
  description: string;
  permissions: readonly string[];
  inherits: readonly string[];
}

const sortedUnique = (values: readonly string[]): string[] => [...new Set(values)].sort();

/** Checks a role's fields, reporting every bad one under its proto field path (`role.permissions[2]`). */
export function validateRoleFields(
  draft: Partial<RoleDraft>,
  violations: Violations,
  prefix = 'role',
): void {
  if (draft.name !== undefined && !isRoleName(draft.name))
    violations.add(`${prefix}.name`, ROLE_NAME_RULE);
  if (draft.description !== undefined && draft.description.length > MAX_DESCRIPTION) {
    violations.add(`${prefix}.description`, `at most ${MAX_DESCRIPTION} characters`);
  }
  if (draft.permissions !== undefined) {
    if (draft.permissions.length > MAX_GRANTS)
      violations.add(`${prefix}.permissions`, `at most ${MAX_GRANTS} grants`);
    draft.permissions.forEach((grant, i) => {
      if (!isGrant(grant)) violations.add(`${prefix}.permissions[${i}]`, GRANT_RULE);
    });
  }
  if (draft.inherits !== undefined) {
    if (draft.inherits.length > MAX_INHERITS)
      violations.add(`${prefix}.inherits`, `at most ${MAX_INHERITS} roles`);
    draft.inherits.forEach((name, i) => {
      if (!isRoleName(name)) violations.add(`${prefix}.inherits[${i}]`, ROLE_NAME_RULE);
    });
  }
}

/** A new custom role; its inherited roles (and cycles) are checked against the catalogue by the caller. */
export function newRole(draft: RoleDraft, now: Date): Role {
  const violations = new Violations();
  validateRoleFields(draft, violations);
  violations.throwIfAny();
  return {
    name: draft.name,
    description: draft.description,
    permissions: sortedUnique(draft.permissions),
    inherits: sortedUnique(draft.inherits),
    builtIn: false,
    createTime: now,
    updateTime: now,
  };
}

export type RolePatch = Partial<Pick<RoleDraft, RoleField>>;

/** Applies `patch`; returns the role and the fields that actually changed (none: same role back). */
export function changeRole(
  role: Role,
  patch: RolePatch,
  now: Date,
): { role: Role; changed: RoleField[] } {
  const violations = new Violations();
  validateRoleFields(patch, violations);
  violations.throwIfAny();
  const next = {
    description: patch.description ?? role.description,
    permissions: patch.permissions ? sortedUnique(patch.permissions) : role.permissions,
    inherits: patch.inherits ? sortedUnique(patch.inherits) : role.inherits,
  };
  if (role.name === ADMIN_ROLE && !next.permissions.includes(EVERYTHING)) {
    throw builtInRole(ADMIN_ROLE, `it must keep the grant ${EVERYTHING}`);
  }
  const changed = ROLE_FIELDS.filter((field) => !sameValue(role[field], next[field]));
  if (changed.length === 0) return { role, changed };
  return { role: { ...role, ...next, updateTime: now }, changed };
}

function sameValue(a: string | readonly string[], b: string | readonly string[]): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

export function assertDeletable(role: Role): void {
  if (role.builtIn) throw builtInRole(role.name, 'built-in roles cannot be deleted');
}

/** The roles every installation starts with (the migration seeds the same rows). */
export const BUILT_IN_ROLES: readonly RoleDraft[] = [
  {
    name: ADMIN_ROLE,
    description: 'Everything, everywhere.',
    permissions: [EVERYTHING],
    inherits: [],
  },
  {
    name: 'guest',
    description: 'Reads its own user.',
    permissions: ['user.read:own'],
    inherits: [],
  },
  {
    name: 'player',
    description: 'A registered user: its own user and sessions, joining games.',
    permissions: [
      'game.join',
      'permission.read:own',
      'session.create',
      'session.end:own',
      'session.list:own',
      'session.read:own',
      'user.change_password:own',
      'user.manage_mfa:own',
      'user.read:own',
      'user.remove_mfa:own@aal2',
      'user.update:own',
    ],
    inherits: ['guest'],
  },
];

export function builtInRoles(now: Date): Role[] {
  return BUILT_IN_ROLES.map((draft) => ({ ...newRole(draft, now), builtIn: true }));
}
