import type { Bus } from '@warden/bus';
import { fromProtoListAuditEvents, toProtoAuditPage, type CallInfo } from '@warden/grpc';
import { sessionv1 } from '@warden/proto';
import type { SessionUseCases } from '../../application/use-cases.js';
import { eventFeedLost } from '../../errors.js';
import {
  fromProtoSecondFactor,
  toProtoRevocation,
  toProtoSession,
  type WatchedEvent,
} from '../../mapping.js';
import type { AccessToken } from '../../application/access-tokens.js';

/** Response header of WatchRevocations: the cursor of where the stream starts. */
export const REVOCATIONS_CURSOR_HEADER = 'x-warden-revocations-cursor';

const accessTokenFields = (accessToken: AccessToken | undefined) =>
  accessToken
    ? { accessToken: accessToken.token, accessTokenExpireTime: accessToken.expireTime }
    : {};

type Unary<Req, Res> = (request: Req, call: CallInfo) => Promise<Res>;

/** The SessionService implementation: proto in, use case through the bus, proto out. */
export function sessionServiceHandlers(bus: Bus, use: SessionUseCases<WatchedEvent>) {
  const startSession: Unary<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse> = async (
    request,
    { ctx },
  ) => {
    const client = request.client && {
      ipAddress: request.client.ipAddress,
      userAgent: request.client.userAgent,
    };
    const started = await bus.run(
      use.startSession,
      { email: request.email, password: request.password, client, requestId: request.requestId },
      ctx,
    );
    if ('challenge' in started) {
      // MFA on: no session and no token until CompleteMfa.
      return sessionv1.StartSessionResponse.fromPartial({
        mfaChallenge: { id: started.challenge.id, expireTime: started.challenge.expireTime },
      });
    }
    return sessionv1.StartSessionResponse.fromPartial({
      session: toProtoSession(started.session),
      token: started.token,
      ...accessTokenFields(started.accessToken),
    });
  };
  const completeMfa: Unary<sessionv1.CompleteMfaRequest, sessionv1.CompleteMfaResponse> = async (
    request,
    { ctx },
  ) => {
    const completed = await bus.run(
      use.completeMfa,
      {
        challengeId: request.challengeId,
        factor: fromProtoSecondFactor(request),
        requestId: request.requestId,
      },
      ctx,
    );
    return sessionv1.CompleteMfaResponse.fromPartial({
      session: toProtoSession(completed.session),
      token: completed.token,
      ...accessTokenFields(completed.accessToken),
    });
  };
  const validateSession: Unary<
    sessionv1.ValidateSessionRequest,
    sessionv1.ValidateSessionResponse
  > = async (request, { ctx }) => ({
    session: toProtoSession(await bus.run(use.validateSession, { token: request.token }, ctx)),
  });
  const getSession: Unary<sessionv1.GetSessionRequest, sessionv1.GetSessionResponse> = async (
    request,
    { ctx },
  ) => ({
    session: toProtoSession(await bus.run(use.getSession, { sessionId: request.sessionId }, ctx)),
  });
  const listActiveSessions: Unary<
    sessionv1.ListActiveSessionsRequest,
    sessionv1.ListActiveSessionsResponse
  > = async (request, { ctx }) => {
    const page = await bus.run(
      use.listActiveSessions,
      { userId: request.userId, pageSize: request.pageSize, pageToken: request.pageToken },
      ctx,
    );
    return { sessions: page.sessions.map(toProtoSession), nextPageToken: page.nextPageToken };
  };
  const refreshSession: Unary<
    sessionv1.RefreshSessionRequest,
    sessionv1.RefreshSessionResponse
  > = async (request, { ctx }) => {
    const refreshed = await bus.run(use.refreshSession, { token: request.token }, ctx);
    return sessionv1.RefreshSessionResponse.fromPartial({
      session: toProtoSession(refreshed.session),
      token: refreshed.token,
      ...accessTokenFields(refreshed.accessToken),
    });
  };
  const endSession: Unary<sessionv1.EndSessionRequest, sessionv1.EndSessionResponse> = async (
    request,
    { ctx },
  ) => ({
    session: toProtoSession(await bus.run(use.endSession, { sessionId: request.sessionId }, ctx)),
  });
  const endUserSessions: Unary<
    sessionv1.EndUserSessionsRequest,
    sessionv1.EndUserSessionsResponse
  > = async (request, { ctx }) => ({
    endedCount: await bus.run(
      use.endUserSessions,
      { userId: request.userId, exceptSessionId: request.exceptSessionId },
      ctx,
    ),
  });
  const watchSessions = async (
    request: sessionv1.WatchSessionsRequest,
    call: CallInfo,
    send: (event: sessionv1.SessionEvent) => Promise<void>,
  ): Promise<void> => {
    const subscription = await bus.run(use.watchSessions, { userId: request.userId }, call.ctx);
    try {
      for (;;) {
        const next = await subscription.next(call.signal);
        if (!next) return;
        // A client that stops reading must not hold us here while the queue overflows.
        await Promise.race([send(next.event), subscription.failed]);
      }
    } finally {
      subscription.close();
    }
  };
  return {
    startSession,
    validateSession,
    getSession,
    listActiveSessions,
    refreshSession,
    endSession,
    endUserSessions,
    watchSessions,
    completeMfa,
    getJwks: async (
      _request: sessionv1.GetJwksRequest,
      { ctx }: CallInfo,
    ): Promise<sessionv1.GetJwksResponse> => ({
      keys: (await bus.run(use.getJwks, {}, ctx)).map((key) => ({ ...key })),
    }),
    watchRevocations: async (
      request: sessionv1.WatchRevocationsRequest,
      call: CallInfo,
      send: (item: sessionv1.WatchRevocationsResponse) => Promise<void>,
    ): Promise<void> => {
      if (!use.watchRevocations) throw eventFeedLost();
      const stream = await bus.run(use.watchRevocations, { after: request.after }, call.ctx);
      // The feed is open (cursor accepted, consumers created): a gateway counts itself connected
      // from the headers, not from having dialled, so a feed that cannot open keeps it "down".
      // Its start cursor too: a caller with no item yet still resumes without a gap.
      call.open?.({ [REVOCATIONS_CURSOR_HEADER]: stream.start });
      try {
        for (;;) {
          const next = await stream.next(call.signal);
          if (!next) return;
          await Promise.race([send(toProtoRevocation(next)), stream.failed]);
        }
      } finally {
        stream.close();
      }
    },
    listAuditEvents: async (
      request: sessionv1.ListAuditEventsRequest,
      { ctx }: CallInfo,
    ): Promise<sessionv1.ListAuditEventsResponse> =>
      toProtoAuditPage(
        await bus.run(use.listAuditEvents, fromProtoListAuditEvents(request), ctx),
        'session-service',
      ),
  };
}
