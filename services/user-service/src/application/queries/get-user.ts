import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import type { UserView } from '../../domain/user.js';
import { userNotFound } from '../../errors.js';
import { parseUserId } from '../../domain/user-id.js';
import type { MetadataAccess } from '../metadata-access.js';
import type { UserDirectory } from '../ports.js';
import { onUser } from '../user-access.js';

export interface GetUser {
  userId: string;
}

export class GetUserHandler implements UseCase<GetUser, UserView> {
  readonly name = 'GetUser';
  readonly readOnly = true;
  readonly access = onUser<GetUser>('user.read');

  constructor(private readonly deps: { directory: UserDirectory; metadata: MetadataAccess }) {
    requireDeps('GetUserHandler', deps);
  }

  async execute(query: GetUser, ctx: CallContext): Promise<UserView> {
    const id = parseUserId(query.userId);
    const user = await this.deps.directory.find(id);
    if (!user) throw userNotFound(id);
    return this.deps.metadata.view(user, ctx);
  }
}
