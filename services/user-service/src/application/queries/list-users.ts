import { permissionOn, readPage, requireDeps } from '@warden/bus';
import type { Page, PageRequest, UseCase } from '@warden/bus';
import { invalidArgument } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import type { UserStatus, UserView } from '../../domain/user.js';
import type { UserDirectory, UserListFilter } from '../ports.js';

export interface ListUsers extends PageRequest {
  emailPrefix: string;
  status?: UserStatus;
}

export type UserPage = Page<'users', UserView>;

export class ListUsersHandler implements UseCase<ListUsers, UserPage> {
  readonly name = 'ListUsers';
  readonly access = permissionOn<ListUsers>('user.list');

  constructor(private readonly deps: { directory: UserDirectory }) {
    requireDeps('ListUsersHandler', deps);
  }

  async execute(query: ListUsers): Promise<UserPage> {
    const emailPrefix = normalizeEmail(query.emailPrefix);
    if (emailPrefix.length > MAX_EMAIL_LENGTH) {
      throw invalidArgument([
        { field: 'email_prefix', description: `must be at most ${MAX_EMAIL_LENGTH} characters` },
      ]);
    }
    const filter: UserListFilter = {
      emailPrefix,
      ...(query.status ? { status: query.status } : {}),
    };
    const { items: users, nextPageToken } = await readPage(query, {
      // Bound to the filters: reused with others, a token would skip rows.
      scope: JSON.stringify([filter.emailPrefix, filter.status ?? '']),
      key: ['time', 'uuid'],
      read: (after, count) =>
        this.deps.directory.list(filter, after && { createTime: after[0], id: after[1] }, count),
      keyOf: (user) => [user.createTime, user.id],
    });
    return { users, nextPageToken };
  }
}
