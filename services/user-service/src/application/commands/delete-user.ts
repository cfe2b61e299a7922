import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { deleteUser } from '../../domain/user.js';
import { parseUserId } from '../../domain/user-id.js';
import type { Clock, UserRepository } from '../ports.js';
import { onUser } from '../user-access.js';

export interface DeleteUser {
  userId: string;
}

export class DeleteUserHandler implements UseCase<DeleteUser, void> {
  readonly name = 'DeleteUser';
  readonly access = onUser<DeleteUser>('user.delete');

  constructor(private readonly deps: { users: UserRepository; clock: Clock }) {
    requireDeps('DeleteUserHandler', deps);
  }

  async execute(cmd: DeleteUser, ctx: CallContext): Promise<void> {
    const id = parseUserId(cmd.userId);
    await this.deps.users.remove(
      id,
      (user) => deleteUser(user, this.deps.clock.now()),
      ctx.traceparent,
    );
  }
}
