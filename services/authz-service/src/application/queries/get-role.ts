import { type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import { type Role } from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { requireRoleName, namedRole } from '../fields.js';
import type { AuthzRepository } from '../ports.js';

export class GetRoleHandler implements UseCase<{ name: string }, Role> {
  readonly name = 'GetRole';
  readonly readOnly = true;
  readonly access = permissionOn<{ name: string }>('role.read', namedRole);

  constructor(private readonly repository: AuthzRepository) {}

  async execute(input: { name: string }): Promise<Role> {
    const violations = new Violations();
    requireRoleName(violations, 'name', input.name);
    violations.throwIfAny();
    const role = await this.repository.findRole(input.name);
    if (!role) throw roleNotFound(input.name);
    return role;
  }
}
