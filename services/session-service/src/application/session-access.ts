import type { ResourceRef } from '@warden/bus';
import type { Session } from '../domain/session.js';
import { requireIds } from './input.js';
import type { SessionRepository } from './ports.js';

/**
 * The resource of a permission on one session (owner = its user, so `:own` grants work), with
 * the session read once for both the check and the handler.
 */
export class SessionResource<I extends { sessionId: string }> {
  private readonly loaded = new WeakMap<I, Promise<Session | undefined>>();

  constructor(private readonly sessions: SessionRepository) {}

  readonly resolve = async (input: I): Promise<ResourceRef> => {
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
