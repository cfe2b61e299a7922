import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { invalidArgument } from '@warden/errors';
import { displayNameProblem, normalizeDisplayName } from '../../domain/display-name.js';
import { renameUser, toView, type UserView } from '../../domain/user.js';
import { userNotFound } from '../../errors.js';
import { parseUserId } from '../../domain/user-id.js';
import type { Clock, UserRepository } from '../ports.js';
import { onUser } from '../user-access.js';

export interface UpdateUser {
  userId: string;
  displayName: string;
  /** Proto field paths; empty means every updatable field given a non-empty value. */
  updateMask: string[];
}

const UPDATABLE_PATHS = ['display_name'] as const;
type UpdatablePath = (typeof UPDATABLE_PATHS)[number];

export class UpdateUserHandler implements UseCase<UpdateUser, UserView> {
  readonly name = 'UpdateUser';
  readonly access = onUser<UpdateUser>('user.update');

  constructor(private readonly deps: { users: UserRepository; clock: Clock }) {
    requireDeps('UpdateUserHandler', deps);
  }

  async execute(cmd: UpdateUser, ctx: CallContext): Promise<UserView> {
    const id = parseUserId(cmd.userId);
    const paths = pathsToUpdate(cmd);
    const displayName = normalizeDisplayName(cmd.displayName);
    const problem = displayNameProblem(displayName);
    if (problem) throw invalidArgument([{ field: 'display_name', description: problem }]);
    if (!paths.has('display_name')) {
      const user = await this.deps.users.get(id);
      if (!user) throw userNotFound(id);
      return toView(user);
    }
    const user = await this.deps.users.update(
      id,
      (current) => renameUser(current, displayName, this.deps.clock.now()),
      ctx.traceparent,
    );
    return toView(user);
  }
}

function pathsToUpdate(cmd: UpdateUser): Set<UpdatablePath> {
  if (cmd.updateMask.length === 0)
    return new Set(cmd.displayName.trim() === '' ? [] : ['display_name']);
  const paths = new Set<UpdatablePath>();
  for (const path of cmd.updateMask) {
    if (path === '*') UPDATABLE_PATHS.forEach((p) => paths.add(p));
    else if ((UPDATABLE_PATHS as readonly string[]).includes(path))
      paths.add(path as UpdatablePath);
    else {
      throw invalidArgument([
        {
          field: 'update_mask',
          description: `unknown or read-only path "${path.slice(0, 64)}"; allowed: ${UPDATABLE_PATHS.join(', ')}`,
        },
      ]);
    }
  }
  return paths;
}
