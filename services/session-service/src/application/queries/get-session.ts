import { type Access, type UseCase, requireDeps } from '@warden/bus';
import { sessionNotFound } from '../../errors.js';
import { asOf, type Session } from '../../domain/session.js';
import type { ActivityBuffer } from '../activity-buffer.js';
import { withLatestActivity } from '../latest-activity.js';
import type { Clock, SessionRepository } from '../ports.js';
import { sessionPermission, type SessionResource } from '../session-access.js';

export interface GetSession {
  sessionId: string;
}

export class GetSessionHandler implements UseCase<GetSession, Session> {
  readonly name = 'GetSession';
  readonly readOnly = true;
  readonly access: Access<GetSession>;
  private readonly resource: SessionResource<GetSession>;

  constructor(
    private readonly deps: { sessions: SessionRepository; clock: Clock; activity: ActivityBuffer },
  ) {
    requireDeps('GetSessionHandler', deps);
    ({ access: this.access, resource: this.resource } = sessionPermission<GetSession>(
      deps.sessions,
      'session.read',
    ));
  }

  async execute(query: GetSession): Promise<Session> {
    const stored = await this.resource.load(query);
    if (!stored) throw sessionNotFound(query.sessionId);
    return asOf(
      withLatestActivity(stored, this.deps.activity.peek(stored.id)),
      this.deps.clock.now(),
    );
  }
}
