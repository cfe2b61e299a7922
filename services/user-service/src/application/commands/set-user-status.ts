import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { invalidArgument } from '@warden/errors';
import { toView, type Change, type User, type UserView } from '../../domain/user.js';
import { parseUserId } from '../../domain/user-id.js';
import type { Clock, UserRepository } from '../ports.js';

export interface SetUserStatus {
  userId: string;
  /** Why, for the audit trail and the event; may be empty. */
  reason: string;
}

const MAX_REASON_LENGTH = 500;

type Transition = (user: User, reason: string, now: Date) => Change;

/** DisableUser and EnableUser (one file each): the same shape, idempotent, differing only in the transition. */
export abstract class SetUserStatusHandler implements UseCase<SetUserStatus, UserView> {
  abstract readonly name: string;
  abstract readonly access: UseCase<SetUserStatus, UserView>['access'];
  protected abstract readonly transition: Transition;

  constructor(private readonly deps: { users: UserRepository; clock: Clock }) {
    requireDeps(new.target.name, deps);
  }

  async execute(cmd: SetUserStatus, ctx: CallContext): Promise<UserView> {
    const id = parseUserId(cmd.userId);
    if (cmd.reason.length > MAX_REASON_LENGTH) {
      throw invalidArgument([
        { field: 'reason', description: `must be at most ${MAX_REASON_LENGTH} characters` },
      ]);
    }
    const reason = cmd.reason.trim();
    const user = await this.deps.users.update(
      id,
      (current) => this.transition(current, reason, this.deps.clock.now()),
      ctx.traceparent,
    );
    return toView(user);
  }
}
