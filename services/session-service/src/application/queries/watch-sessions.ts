import { type Access, type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { requireIds } from '../fields.js';
import type { Watchable, WatchHub, WatchSubscription } from '../watch-hub.js';

export interface WatchSessions {
  /** Only this user's sessions; empty for all. */
  userId: string;
}

/**
 * Subscribes a named service to this process's feed of session events. A user whose token the
 * service carries watches only its own sessions (user_id = itself) unless it holds session.list.
 */
export class WatchSessionsHandler<T extends Watchable> implements UseCase<
  WatchSessions,
  WatchSubscription<T>
> {
  readonly name = 'WatchSessions';
  readonly readOnly = true;
  readonly access: Access<WatchSessions>;

  constructor(private readonly deps: { hub: WatchHub<T>; allowedServices: readonly string[] }) {
    requireDeps('WatchSessionsHandler', deps);
    this.access = {
      kind: 'services',
      names: deps.allowedServices,
      // An empty user_id means everyone's sessions: never narrowed silently to the caller's own.
      onBehalf: { permission: 'session.list', owners: (query) => [query.userId || undefined] },
    };
  }

  async execute(query: WatchSessions, ctx: CallContext): Promise<WatchSubscription<T>> {
    requireIds({ user_id: { value: query.userId, optional: true } });
    // Users behind one gateway identity each get their own quota, so one cannot starve the rest.
    const caller = ctx.user ? `${ctx.service.name}/${ctx.user.userId}` : ctx.service.name;
    return this.deps.hub.subscribe(query.userId || undefined, caller);
  }
}
