import type { Access, UseCase } from '@warden/bus';
import { sessionNotFound } from '../../errors.js';
import { asOf, type Session } from '../../domain/session.js';
import type { ActivityBuffer } from '../activity-buffer.js';
import { withLatestActivity } from '../latest-activity.js';
import type { Clock, SessionRepository } from '../ports.js';
import { requireDeps } from '../require-deps.js';
import { SessionResource } from '../session-access.js';

export interface GetSession {
  sessionId: string;
}

export class GetSessionHandler implements UseCase<GetSession, Session> {
  readonly name = 'GetSession';
  readonly access: Access<GetSession>;
  private readonly resource: SessionResource<GetSession>;

  constructor(
    private readonly deps: { sessions: SessionRepository; clock: Clock; activity: ActivityBuffer },
  ) {
    requireDeps('GetSessionHandler', deps);
    this.resource = new SessionResource(deps.sessions);
    this.access = {
      kind: 'permission',
      permission: 'session.read',
      resource: this.resource.resolve,
    };
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
