import { isAppError } from '@warden/errors';
import { callUnary, createClient, type ClientKitOptions } from '@warden/grpc';
import { sessionv1 } from '@warden/proto';
import type { SessionDirectory, SessionInfo } from '../../application/ports.js';
import { sessionsUnavailable } from '../../errors.js';

/**
 * SessionDirectory over session-service's GetSession, as `service:authz-service` (which holds
 * `session.read` for this). NOT_FOUND is no session; any other failure is SESSIONS_UNAVAILABLE,
 * so a grant is never bound to a session nobody could check.
 */
export class GrpcSessionDirectory implements SessionDirectory {
  private readonly client: sessionv1.SessionServiceClient;

  constructor(private readonly options: ClientKitOptions) {
    this.client = createClient(sessionv1.SessionServiceClient, options);
  }

  async findSession(sessionId: string): Promise<SessionInfo | undefined> {
    let session: sessionv1.Session | undefined;
    try {
      ({ session } = await callUnary(
        this.client.getSession,
        this.client,
        sessionv1.GetSessionRequest.fromPartial({ sessionId }),
        undefined,
        this.options.deadlineMs,
      ));
    } catch (error) {
      if (isAppError(error) && error.kind === 'NOT_FOUND') return undefined;
      throw sessionsUnavailable(error);
    }
    if (!session) return undefined;
    return {
      userId: session.userId,
      active: session.status === sessionv1.SessionStatus.SESSION_STATUS_ACTIVE,
      ...(session.expireTime ? { expireTime: session.expireTime } : {}),
    };
  }

  close(): void {
    this.client.close();
  }
}
