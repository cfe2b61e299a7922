import {
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { sessionv1 } from '@warden/proto';
import { GatewayError } from './errors.js';
import type { Jwk, Principal, RevocationItem, RevocationKind, SessionApi } from './types.js';

export interface GrpcSessionApiOptions {
  /** session-service's address, e.g. `dns:///session-service:50052`. */
  address: string;
  /** This gateway's `x-warden-service-key` (dev); with mTLS pass `credentials` instead. */
  serviceKey?: string;
  /** Channel credentials (mTLS); plaintext when absent. */
  credentials?: ChannelCredentials;
  /** Deadline of unary calls (ms); default 2000. */
  deadlineMs?: number;
}

const KINDS: Record<number, RevocationKind | undefined> = {
  [sessionv1.RevocationKind.REVOCATION_KIND_SESSION_ENDED]: 'SESSION_ENDED',
  [sessionv1.RevocationKind.REVOCATION_KIND_SESSION_EXPIRED]: 'SESSION_EXPIRED',
  [sessionv1.RevocationKind.REVOCATION_KIND_USER_DISABLED]: 'USER_DISABLED',
  [sessionv1.RevocationKind.REVOCATION_KIND_USER_DELETED]: 'USER_DELETED',
  [sessionv1.RevocationKind.REVOCATION_KIND_PASSWORD_CHANGED]: 'PASSWORD_CHANGED',
  [sessionv1.RevocationKind.REVOCATION_KIND_ROLES_CHANGED]: 'ROLES_CHANGED',
};

/** session-service over gRPC (the generated client), for `createGateway`. */
export function grpcSessionApi(options: GrpcSessionApiOptions): SessionApi {
  const client = new sessionv1.SessionServiceClient(
    options.address,
    options.credentials ?? credentials.createInsecure(),
    {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      'grpc.keepalive_time_ms': 30_000,
    },
  );
  const metadata = () => {
    const m = new Metadata();
    if (options.serviceKey) m.set('x-warden-service-key', options.serviceKey);
    return m;
  };
  const deadline = () => ({ deadline: Date.now() + (options.deadlineMs ?? 2_000) });
  const unary = <Req, Res>(
    call: (
      req: Req,
      md: Metadata,
      opts: { deadline: number },
      cb: (e: ServiceError | null, r: Res) => void,
    ) => unknown,
    request: Req,
  ) =>
    new Promise<Res>((resolve, reject) =>
      call.call(client, request, metadata(), deadline(), (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
  return {
    async getJwks(): Promise<Jwk[]> {
      const response = await unary<sessionv1.GetJwksRequest, sessionv1.GetJwksResponse>(
        client.getJwks,
        {},
      );
      return response.keys;
    },
    async validateSession(token: string): Promise<Omit<Principal, 'via'>> {
      try {
        const { session } = await unary<
          sessionv1.ValidateSessionRequest,
          sessionv1.ValidateSessionResponse
        >(client.validateSession, { token });
        return {
          userId: session!.userId,
          sessionId: session!.id,
          aal:
            session!.assuranceLevel === sessionv1.AssuranceLevel.ASSURANCE_LEVEL_AAL2
              ? 'aal2'
              : 'aal1',
          expiresAt: session!.idleExpireTime ?? session!.expireTime ?? new Date(),
        };
      } catch (error) {
        if ((error as ServiceError).code === status.UNAUTHENTICATED)
          throw new GatewayError('SESSION_INVALID', (error as ServiceError).details, {
            cause: error,
          });
        throw new GatewayError('UNAVAILABLE', 'session-service did not answer', { cause: error });
      }
    },
    async *watchRevocations(
      after: string,
      signal: AbortSignal,
      opened?: (start: string | undefined) => void,
    ): AsyncIterable<RevocationItem> {
      const call = client.watchRevocations({ after }, metadata());
      // session-service sends the headers once the feed is open; a refused call sends none first.
      if (opened)
        call.once('metadata', (headers: Metadata) => {
          const start = headers.get('x-warden-revocations-cursor')[0];
          opened(typeof start === 'string' && start !== '' ? start : undefined);
        });
      const cancel = () => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      try {
        for await (const item of call as AsyncIterable<sessionv1.WatchRevocationsResponse>) {
          const kind = KINDS[item.kind];
          if (!kind) continue;
          yield {
            cursor: item.cursor,
            kind,
            sessionId: item.sessionId,
            userId: item.userId,
            time: item.time ?? new Date(0),
          };
        }
      } finally {
        signal.removeEventListener('abort', cancel);
        call.cancel();
      }
    },
    close: () => client.close(),
  };
}

/** The gRPC status code of a feed failure, if it was one. */
export const grpcCodeOf = (error: unknown): number | undefined =>
  typeof (error as ServiceError)?.code === 'number' ? (error as ServiceError).code : undefined;
