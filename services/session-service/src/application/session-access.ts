import { permissionOn, type Access, type CallContext, type ResourceRef } from '@warden/bus';
import type { Session } from '../domain/session.js';
import { requireIds } from './fields.js';
import type { ActivityBuffer } from './activity-buffer.js';
import type { Clock, SessionRepository } from './ports.js';
import type { SessionCache } from './session-cache.js';

/**
 * The resource of a permission on one session (owner = its user, so `:own` grants work), with
 * the session read once for both the check and the handler. A caller acting on the session its
 * own token belongs to (logout) needs no read: a session's owner never changes.
 */
export class SessionResource<I extends { sessionId: string }> {
  private readonly loaded = new WeakMap<I, Promise<Session | undefined>>();

  constructor(private readonly sessions: SessionRepository) {}

  readonly resolve = async (input: I, ctx?: CallContext): Promise<ResourceRef> => {
    if (ctx?.user?.sessionId !== undefined && ctx.user.sessionId === input.sessionId)
      return { type: 'session', id: input.sessionId, ownerId: ctx.user.userId };
    const session = await this.load(input);
    return {
      type: 'session',
      id: input.sessionId,
      ...(session ? { ownerId: session.userId } : {}),
    };
  };

  load(input: I): Promise<Session | undefined> {
    let pending = this.loaded.get(input);
    if (!pending) {
      requireIds({ session_id: { value: input.sessionId } });
      pending = this.sessions.findById(input.sessionId);
      this.loaded.set(input, pending);
    }
    return pending;
  }
}

/** A use case's permission on one session; `resource.load` gives the handler the session read for the check. */
export function sessionPermission<I extends { sessionId: string }>(
  sessions: SessionRepository,
  permission: string,
): { access: Access<I>; resource: SessionResource<I> } {
  const resource = new SessionResource<I>(sessions);
  return { access: permissionOn(permission, resource.resolve), resource };
}

/** What a use case reading a live session by its token needs: the store, the cache in front of it, recent activity. */
export interface LiveSessionDeps {
  sessions: SessionRepository;
  clock: Clock;
  cache: SessionCache;
  activity: ActivityBuffer;
}
