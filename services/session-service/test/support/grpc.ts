import type { CallContext } from '@warden/bus';
import { credentials, Metadata } from '@grpc/grpc-js';
import { callUnary, createClient } from '@warden/grpc';
import { sessionv1 } from '@warden/proto';

export const KEYS = {
  'user-service': 'dev-key-user-service-000',
  'session-service': 'dev-key-session-service-0',
  'authz-service': 'dev-key-authz-service-000',
  gateway: 'dev-key-gateway-000000000',
};

type Ctx = Partial<Pick<CallContext, 'bearerToken' | 'requestId' | 'traceparent'>>;

/** A typed SessionService client with promise methods, as a calling service would use it. */
export function sessionClient(address: string, serviceKey: string = KEYS.gateway) {
  const client = createClient(sessionv1.SessionServiceClient, {
    address,
    serviceKey,
    maxAttempts: 2,
  });
  const call =
    <Req, Res>(method: Parameters<typeof callUnary<Req, Res>>[0]) =>
    (request: Req, ctx?: Ctx) =>
      // Generous: real processes on a 2-core CI machine, next to other suites' processes.
      callUnary<Req, Res>(method, client, request, ctx, 20_000);
  return {
    raw: client,
    startSession: call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
      client.startSession,
    ),
    validateSession: call<sessionv1.ValidateSessionRequest, sessionv1.ValidateSessionResponse>(
      client.validateSession,
    ),
    getSession: call<sessionv1.GetSessionRequest, sessionv1.GetSessionResponse>(client.getSession),
    listActiveSessions: call<
      sessionv1.ListActiveSessionsRequest,
      sessionv1.ListActiveSessionsResponse
    >(client.listActiveSessions),
    refreshSession: call<sessionv1.RefreshSessionRequest, sessionv1.RefreshSessionResponse>(
      client.refreshSession,
    ),
    endSession: call<sessionv1.EndSessionRequest, sessionv1.EndSessionResponse>(client.endSession),
    endUserSessions: call<sessionv1.EndUserSessionsRequest, sessionv1.EndUserSessionsResponse>(
      client.endUserSessions,
    ),
    close: () => client.close(),
  };
}

export type SessionClient = ReturnType<typeof sessionClient>;

export const bearer = (token: string): Ctx => ({ bearerToken: token });

/**
 * Collects a WatchSessions stream's events and its end (status or error). Opened on a plain
 * channel: the kit's client retries an UNAVAILABLE that comes before any event, which would hide it.
 */
export function watch(
  address: string,
  userId = '',
  serviceKey: string = KEYS.gateway,
  token?: string,
) {
  const events: sessionv1.SessionEvent[] = [];
  const client = new sessionv1.SessionServiceClient(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('x-warden-service-key', serviceKey);
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const stream = client.watchSessions({ userId }, metadata);
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    stream.on('error', (error: { code: number; details: string }) => resolve(error));
    stream.on('end', () => resolve({ code: 0, details: 'end' }));
  });
  stream.on('data', (event: sessionv1.SessionEvent) => events.push(event));
  void ended.then(() => client.close());
  return { events, ended, cancel: () => stream.cancel(), stream };
}
