import {
  decodePageToken,
  pageOf,
  pageSize,
  type Access,
  type PageRequest,
  type UseCase,
} from '@warden/bus';
import type { Session } from '../../domain/session.js';
import { requireIds } from '../input.js';
import type { Clock, SessionRepository } from '../ports.js';
import { requireDeps } from '../require-deps.js';

export interface ListActiveSessions extends PageRequest {
  userId: string;
}

export interface SessionPage {
  sessions: Session[];
  nextPageToken: string;
}

export class ListActiveSessionsHandler implements UseCase<ListActiveSessions, SessionPage> {
  readonly name = 'ListActiveSessions';
  readonly access: Access<ListActiveSessions> = {
    kind: 'permission',
    permission: 'session.list',
    resource: (query) => {
      requireIds({ user_id: { value: query.userId } });
      return { type: 'session', ownerId: query.userId };
    },
  };

  constructor(private readonly deps: { sessions: SessionRepository; clock: Clock }) {
    requireDeps('ListActiveSessionsHandler', deps);
  }

  async execute(query: ListActiveSessions): Promise<SessionPage> {
    requireIds({ user_id: { value: query.userId } });
    const limit = pageSize(query.pageSize);
    // Bound to the listed user: another user's token is refused.
    const after = decodePageToken(query.pageToken, query.userId, ['time', 'uuid']);
    const rows = await this.deps.sessions.listActive(
      query.userId,
      this.deps.clock.now(),
      limit + 1,
      after && { createTime: after[0], id: after[1] },
    );
    const { items: sessions, nextPageToken } = pageOf(rows, limit, query.userId, (last) => [
      last.createTime,
      last.id,
    ]);
    return { sessions, nextPageToken };
  }
}
