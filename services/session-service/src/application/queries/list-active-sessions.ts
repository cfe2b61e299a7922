import { permissionOn, readPage, requireDeps } from '@warden/bus';
import type { Page, PageRequest, UseCase } from '@warden/bus';
import type { Session } from '../../domain/session.js';
import { requireIds } from '../fields.js';
import type { Clock, SessionRepository } from '../ports.js';

export interface ListActiveSessions extends PageRequest {
  userId: string;
}

export type SessionPage = Page<'sessions', Session>;

export class ListActiveSessionsHandler implements UseCase<ListActiveSessions, SessionPage> {
  readonly name = 'ListActiveSessions';
  readonly readOnly = true;
  readonly access = permissionOn<ListActiveSessions>('session.list', (query) => {
    requireIds({ user_id: { value: query.userId } });
    return { type: 'session', ownerId: query.userId };
  });

  constructor(private readonly deps: { sessions: SessionRepository; clock: Clock }) {
    requireDeps('ListActiveSessionsHandler', deps);
  }

  async execute(query: ListActiveSessions): Promise<SessionPage> {
    requireIds({ user_id: { value: query.userId } });
    const now = this.deps.clock.now();
    const { items: sessions, nextPageToken } = await readPage(query, {
      // Bound to the listed user: another user's token is refused.
      scope: query.userId,
      key: ['time', 'uuid'],
      read: (after, count) =>
        this.deps.sessions.listActive(
          query.userId,
          now,
          count,
          after && { createTime: after[0], id: after[1] },
        ),
      keyOf: (session) => [session.createTime, session.id],
    });
    return { sessions, nextPageToken };
  }
}
