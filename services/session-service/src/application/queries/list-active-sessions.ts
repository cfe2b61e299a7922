import type { Access, UseCase } from '@warden/bus';
import { Violations } from '@warden/errors';
import type { Session } from '../../domain/session.js';
import { requireIds } from '../input.js';
import type { Clock, SessionRepository } from '../ports.js';
import { requireDeps } from '../require-deps.js';
import { decodePageToken, encodePageToken } from './page-token.js';

export interface ListActiveSessions {
  userId: string;
  pageSize: number;
  pageToken: string;
}

export interface SessionPage {
  sessions: Session[];
  nextPageToken: string;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

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
    if (query.pageSize < 0) new Violations().add('page_size', 'must not be negative').throwIfAny();
    const after = decodePageToken(query.pageToken, query.userId);
    const pageSize = Math.min(query.pageSize || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const rows = await this.deps.sessions.listActive(
      query.userId,
      this.deps.clock.now(),
      pageSize + 1,
      after,
    );
    const sessions = rows.slice(0, pageSize);
    const last = sessions.at(-1);
    const nextPageToken = rows.length > pageSize && last ? encodePageToken(query.userId, last) : '';
    return { sessions, nextPageToken };
  }
}
