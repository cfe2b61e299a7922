import {
  decodePageToken,
  pageOf,
  pageSize,
  type Access,
  type PageRequest,
  type UseCase,
} from '@warden/bus';
import { type Role } from '../../domain/index.js';
import type { AuthzRepository } from '../ports.js';

export type ListRoles = PageRequest;

export interface RolePage {
  roles: Role[];
  nextPageToken: string;
}

export class ListRolesHandler implements UseCase<ListRoles, RolePage> {
  readonly name = 'ListRoles';
  readonly access: Access<ListRoles> = {
    kind: 'permission',
    permission: 'role.read',
    resource: () => ({ type: 'role' }),
  };

  constructor(private readonly repository: AuthzRepository) {}

  async execute(input: ListRoles): Promise<RolePage> {
    const limit = pageSize(input.pageSize);
    const after = decodePageToken(input.pageToken, 'roles', ['key']);
    const rows = await this.repository.listRoles({ afterName: after?.[0], limit: limit + 1 });
    const { items: roles, nextPageToken } = pageOf(rows, limit, 'roles', (last) => [last.name]);
    return { roles, nextPageToken };
  }
}
