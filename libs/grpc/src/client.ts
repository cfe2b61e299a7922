import { readFileSync } from 'node:fs';
import {
  credentials as grpcCredentials,
  experimental,
  InterceptingCall,
  Metadata,
  status,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  type Interceptor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import type { CallContext } from '@warden/bus';
import { tracer, type Tracer } from '@warden/logger';
import { SERVICE_KEY_HEADER } from './identity.js';
import { MIN_REVISION_METADATA } from './revision.js';
import { TLS_RELOAD_INTERVAL_MS, type TlsConfig } from './server.js';
import { fromServiceError } from './status.js';

export interface ClientKitOptions {
  address: string;
  /** This service's key for the callee (`x-warden-service-key`), when TLS is off. */
  serviceKey?: string;
  tls?: TlsConfig;
  deadlineMs?: number;
  maxAttempts?: number;
}

type ClientConstructor<C> = {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): C;
  service: ServiceDefinition;
};

/**
 * A generated client with the kit's channel: `round_robin` over every address the target resolves
 * to, keepalive, retries on UNAVAILABLE with backoff (gRPC's own retry policy), TLS/mTLS, and the
 * service key on every call.
 */
export function createClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  options: ClientKitOptions,
): C {
  return new Ctor(options.address, channelCredentials(options.tls), channelOptions(Ctor, options));
}

/** Client keepalive: a ping every 30 s finds a dead connection (a killed replica) within 40 s. */
export const CLIENT_KEEPALIVE = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
} as const;

/**
 * The channel options `createClient` gives a client of `Ctor`'s service. The target may be
 * `host:port` or `dns:///host:port` (every address DNS returns is a replica: a headless Service) or
 * `ipv4:a:p,b:p`; `round_robin` keeps a connection to each and spreads calls over them (grpc-js's
 * default, `pick_first`, would send every call of this process to one replica). Servers close
 * connections past `grpc.max_connection_age`, which makes the channel re-resolve and find
 * replicas added since.
 */
export function channelOptions(
  Ctor: { service: ServiceDefinition },
  options: Pick<ClientKitOptions, 'serviceKey' | 'maxAttempts'>,
): Partial<ClientOptions> {
  const services = [...new Set(Object.values(Ctor.service).map((m) => m.path.split('/')[1]!))];
  const serviceConfig = {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        name: services.map((service) => ({ service })),
        retryPolicy: {
          maxAttempts: options.maxAttempts ?? 4,
          initialBackoff: '0.05s',
          maxBackoff: '1s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  };
  const interceptors: Interceptor[] = [];
  if (options.serviceKey) interceptors.push(serviceKeyInterceptor(options.serviceKey));
  return {
    'grpc.service_config': JSON.stringify(serviceConfig),
    'grpc.enable_retries': 1,
    ...CLIENT_KEEPALIVE,
    interceptors,
  };
}

/** What `clientOptions` reads of a service's config: its TLS files and its own key. */
export interface ClientSecurityConfig {
  grpc: { tls: { enabled: boolean; ca_file: string; cert_file: string; key_file: string } };
  auth: { client_key: string };
}

/**
 * The one way a service builds an outbound client: with grpc.tls on, TLS with this service's
 * certificate as the client certificate (and no key sent); otherwise its key.
 */
export function clientOptions(
  config: ClientSecurityConfig,
  address: string,
  extra: Pick<ClientKitOptions, 'deadlineMs' | 'maxAttempts'> = {},
): ClientKitOptions {
  const { tls } = config.grpc;
  if (!tls.enabled) return { address, serviceKey: config.auth.client_key, ...extra };
  return {
    address,
    tls: { enabled: true, caFile: tls.ca_file, certFile: tls.cert_file, keyFile: tls.key_file },
    ...extra,
  };
}

function channelCredentials(tls: ClientKitOptions['tls']): ChannelCredentials {
  if (!tls?.enabled) return grpcCredentials.createInsecure();
  if (!tls.caFile) return grpcCredentials.createSsl(null, null, null);
  const identity = Boolean(tls.certFile && tls.keyFile);
  // Read once here so a missing file fails at construction, not at the first call.
  for (const file of [tls.caFile, ...(identity ? [tls.certFile!, tls.keyFile!] : [])])
    readFileSync(file);
  // Re-read while running, so a renewed certificate or CA applies to new connections.
  const files = new experimental.FileWatcherCertificateProvider({
    caCertificateFile: tls.caFile,
    ...(identity ? { certificateFile: tls.certFile, privateKeyFile: tls.keyFile } : {}),
    refreshIntervalMs: tls.reloadIntervalMs ?? TLS_RELOAD_INTERVAL_MS,
  });
  return experimental.createCertificateProviderChannelCredentials(files, identity ? files : null);
}

function serviceKeyInterceptor(key: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(SERVICE_KEY_HEADER, key);
        next(metadata, listener);
      },
    });
}

/** What of the caller's context goes along with an outbound call. */
export type OutgoingContext = Partial<
  Pick<CallContext, 'bearerToken' | 'requestId' | 'traceparent' | 'tracestate' | 'minRevision'>
>;

/**
 * Metadata for a call made on behalf of `ctx`: the user's token, request id, trace and the authz
 * revision it must read (`x-warden-min-revision`) go along.
 */
export function outgoingMetadata(ctx?: OutgoingContext): Metadata {
  const metadata = new Metadata();
  if (ctx?.minRevision) metadata.set(MIN_REVISION_METADATA, String(ctx.minRevision));
  if (ctx?.bearerToken) metadata.set('authorization', `Bearer ${ctx.bearerToken}`);
  if (ctx?.requestId) metadata.set('x-request-id', ctx.requestId);
  if (ctx?.traceparent) {
    metadata.set('traceparent', ctx.traceparent);
    if (ctx.tracestate) metadata.set('tracestate', ctx.tracestate);
  }
  return metadata;
}

type UnaryMethod<Req, Res> = ((
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown) & { path?: string };

/**
 * Promise form of a generated unary method; failures come back as AppError with their reason.
 * While tracing is on, the call is a CLIENT span (child of `ctx`'s trace) and the callee gets its context.
 */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  client: Client,
  request: Req,
  ctx?: OutgoingContext,
  deadlineMs = 5000,
): Promise<Res> {
  const spans = tracer();
  const span = spans.enabled ? startClientSpan(spans, method, ctx) : undefined;
  return new Promise<Res>((resolve, reject) => {
    method.call(
      client,
      request,
      outgoingMetadata(span ? { ...ctx, ...span.context } : ctx),
      { deadline: Date.now() + deadlineMs },
      (error, response) => {
        // For a client every status but OK is a failed call.
        span?.end({
          attributes: { 'rpc.grpc.status_code': error ? error.code : status.OK },
          ...(error ? { error: status[error.code] ?? String(error.code) } : {}),
        });
        if (error) reject(fromServiceError(error, calleeOf(method)));
        else resolve(response);
      },
    );
  });
}

function startClientSpan(spans: Tracer, method: { path?: string }, ctx?: OutgoingContext) {
  const [service, name] = (method.path ?? '/dependency/unknown').slice(1).split('/');
  return spans.start(
    `${service}/${name}`,
    'client',
    ctx?.traceparent
      ? { traceparent: ctx.traceparent, ...(ctx.tracestate ? { tracestate: ctx.tracestate } : {}) }
      : undefined,
    {
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service ?? '', 'rpc.method': name ?? '' },
    },
  );
}

/** `/warden.authz.v1.AuthzService/CheckPermission` -> `warden.authz.v1.AuthzService`. */
const calleeOf = (method: { path?: string }): string => method.path?.split('/')[1] || 'dependency';
