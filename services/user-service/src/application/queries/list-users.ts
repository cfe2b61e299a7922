import {
  decodePageToken,
  pageOf,
  pageSize,
  type Access,
  type PageRequest,
  type UseCase,
} from '@warden/bus';
import { invalidArgument } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import type { UserStatus, UserView } from '../../domain/user.js';
import type { UserDirectory, UserListFilter } from '../ports.js';
import { requireDeps } from '../require-deps.js';

export interface ListUsers extends PageRequest {
  emailPrefix: string;
  status?: UserStatus;
}

export interface UserPage {
  users: UserView[];
  /** Empty on the last page. */
  nextPageToken: string;
}

export class ListUsersHandler implements UseCase<ListUsers, UserPage> {
  readonly name = 'ListUsers';
  readonly access: Access<ListUsers> = {
    kind: 'permission',
    permission: 'user.list',
    resource: () => ({ type: 'user' }),
  };

  constructor(private readonly deps: { directory: UserDirectory }) {
    requireDeps('ListUsersHandler', deps);
  }

  async execute(query: ListUsers): Promise<UserPage> {
    const limit = pageSize(query.pageSize);
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
    // The token is bound to the filters it was issued for: reused with others it would skip rows.
    const scope = JSON.stringify([filter.emailPrefix, filter.status ?? '']);
    const after = decodePageToken(query.pageToken, scope, ['time', 'uuid']);
    const rows = await this.deps.directory.list(
      filter,
      after && { createTime: after[0], id: after[1] },
      limit + 1,
    );
    const { items: users, nextPageToken } = pageOf(rows, limit, scope, (last) => [
      last.createTime,
      last.id,
    ]);
    return { users, nextPageToken };
  }
}
