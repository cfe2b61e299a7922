import { decodePageToken, encodePageToken, pageSize, type Access, type UseCase } from '@warden/bus';
import { type Role } from '../../domain/index.js';
import type { AuthzRepository } from '../ports.js';

export interface ListRoles {
  pageSize: number;
  pageToken: string;
}

export class ListRolesHandler implements UseCase<
  ListRoles,
  { roles: Role[]; nextPageToken: string }
> {
  readonly name = 'ListRoles';
  readonly access: Access<ListRoles> = {
    kind: 'permission',
    permission: 'role.read',
    resource: () => ({ type: 'role' }),
  };

  constructor(private readonly repository: AuthzRepository) {}

  async execute(input: ListRoles): Promise<{ roles: Role[]; nextPageToken: string }> {
    const limit = pageSize(input.pageSize);
    const after = decodePageToken(input.pageToken, 'roles', ['key']);
    const rows = await this.repository.listRoles({ afterName: after?.[0], limit: limit + 1 });
    const roles = rows.slice(0, limit);
    const more = rows.length > limit;
    return { roles, nextPageToken: more ? encodePageToken('roles', [roles.at(-1)!.name]) : '' };
  }
}
