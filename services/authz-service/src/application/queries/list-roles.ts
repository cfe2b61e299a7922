import { readPage, type Page, type PageRequest, type UseCase, permissionOn } from '@warden/bus';
import { type Role } from '../../domain/index.js';
import type { AuthzRepository } from '../ports.js';

export type ListRoles = PageRequest;

export type RolePage = Page<'roles', Role>;

export class ListRolesHandler implements UseCase<ListRoles, RolePage> {
  readonly name = 'ListRoles';
  readonly readOnly = true;
  readonly access = permissionOn<ListRoles>('role.read');

  constructor(private readonly repository: AuthzRepository) {}

  async execute(input: ListRoles): Promise<RolePage> {
    const { items: roles, nextPageToken } = await readPage(input, {
      scope: 'roles',
      key: ['key'],
      read: (after, count) => this.repository.listRoles({ afterName: after?.[0], limit: count }),
      keyOf: (role) => [role.name],
    });
    return { roles, nextPageToken };
  }
}
