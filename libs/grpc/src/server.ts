import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  experimental,
  Server,
  ServerCredentials,
  status,
  Metadata,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { CallContext, UserPrincipal } from '@warden/bus';
import { AppError, isAppError } from '@warden/errors';
import {
  continueTrace,
  traceIdOf,
  tracer,
  withLogContext,
  type ActiveSpan,
  type LogContext,
  type Logger,
  type TraceContext,
} from '@warden/logger';
import { HealthImplementation } from 'grpc-health-check';
import { LIVENESS_SERVICE } from './health-server.js';
import { ServiceAuthenticator } from './identity.js';
import { LazyReflection } from './reflection.js';
import type { DurationHistogram } from './metrics.js';
import { MIN_REVISION_METADATA, parseMinRevision } from './revision.js';
import { describeCause, internalStatus, isClientKind, toStatus } from './status.js';

/** What a handler gets besides its request. */
export interface CallInfo {
  ctx: CallContext;
  metadata: Metadata;
  /** Aborted when the caller cancels or its deadline passes. */
  signal: AbortSignal;
  /**
   * Server streams: sends the response headers now, before any message, so the client knows the
   * stream is open (a feed that may stay quiet for long), with `headers` if given; nothing on
   * unary calls or a second time.
   */
  open?(headers?: Readonly<Record<string, string>>): void;
}

export type UnaryHandler<Req, Res> = (request: Req, call: CallInfo) => Promise<Res>;
/** A server-streaming handler writes with `send`, which waits while the client reads slowly. */
export type StreamHandler<Req, Res> = (
  request: Req,
  call: CallInfo,
  send: (message: Res) => Promise<void>,
) => Promise<void>;

export interface TlsConfig {
  enabled: boolean;
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  /** How often the files are re-read, so a renewed certificate applies without a restart. */
  reloadIntervalMs?: number;
}

/** cert-manager renews well ahead of expiry: a minute's delay in noticing costs nothing. */
export const TLS_RELOAD_INTERVAL_MS = 60_000;

export interface ServerKitOptions {
  serviceName: string;
  logger: Logger;
  host: string;
  port: number;
  maxMessageBytes: number;
  /** Keys accepted in x-warden-service-key by calling service (several while one is rotated). */
  serviceKeys: Record<string, string | readonly string[]>;
  tls?: TlsConfig;
  /** With TLS: the client certificate CNs accepted as calling services. */
  allowedServices?: readonly string[];
  /** A plaintext port serving only grpc.health.v1 (kubelet probes); 0 or absent: none. */
  healthPort?: number;
  /** A descriptor set (buf build -o) for grpc.reflection.v1. */
  descriptorSetPath?: string;
  /** Serve grpc.reflection (to identified callers only); false: not at all. Default true. */
  reflection?: boolean;
  /** Turns `authorization: Bearer <token>` into a user principal (through ValidateSession). */
  resolveUser?: (token: string, ctx: CallContext) => Promise<UserPrincipal>;
  rpcDuration?: DurationHistogram;
  /**
   * Connections older than this get GOAWAY, so callers re-resolve the target and spread over
   * replicas added since; 0 or absent: never.
   */
  maxConnectionAgeMs?: number;
  /** How long calls still running on such a connection may finish before it closes. */
  maxConnectionAgeGraceMs?: number;
  /**
   * True for an error no handler mapped that means a dependency is down (the database): the caller
   * gets UNAVAILABLE, to retry, instead of INTERNAL.
   */
  isUnavailable?: (error: unknown) => boolean;
}

/** The kit's clients ping every 30 s; the server accepts pings this often, with or without calls. */
const MIN_PING_INTERVAL_MS = 10_000;

type RequestOf<M> = M extends { requestDeserialize: (bytes: Buffer) => infer R } ? R : never;
type ResponseOf<M> = M extends { responseSerialize: (value: infer R) => Buffer } ? R : never;
/** One handler per method of a generated definition, typed by its request and response. */
export type Handlers<D> = {
  [K in keyof D]: D[K] extends { responseStream: true }
    ? StreamHandler<RequestOf<D[K]>, ResponseOf<D[K]>>
    : UnaryHandler<RequestOf<D[K]>, ResponseOf<D[K]>>;
};

/** What a request decodes to when its bytes are not the message: the handler answers INVALID_ARGUMENT. */
class DecodeFailure {
  constructor(readonly message: string) {}
}

/**
 * The server kit: every RPC passes identity, principal, request id, trace context, logging,
 * metrics and the single error mapping; health and reflection come with it.
 */
export class GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  private readonly authenticator: ServiceAuthenticator;
  private healthServer: Server | undefined;
  private boundHealthPort = 0;
  private readonly serviceNames: string[] = [];
  private boundPort = 0;

  constructor(private readonly options: ServerKitOptions) {
    this.server = new Server({
      'grpc.max_receive_message_length': options.maxMessageBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': MIN_PING_INTERVAL_MS,
      ...(options.maxConnectionAgeMs
        ? {
            'grpc.max_connection_age_ms': options.maxConnectionAgeMs,
            'grpc.max_connection_age_grace_ms': options.maxConnectionAgeGraceMs ?? 10_000,
          }
        : {}),
    });
    this.authenticator = new ServiceAuthenticator(
      options.serviceKeys,
      options.tls?.enabled ?? false,
      options.allowedServices,
    );
    // Liveness (LIVENESS_SERVICE) never follows readiness: it answers SERVING while the process runs.
    this.health = new HealthImplementation({ '': 'NOT_SERVING', [LIVENESS_SERVICE]: 'SERVING' });
    this.health.addToServer(this.server);
  }

  /** Registers a generated `XServiceService` definition with typed handlers, keyed like it. */
  addService<D extends ServiceDefinition>(definition: D, handlers: Handlers<D>): void {
    const wrapped: UntypedServiceImplementation = {};
    const safeDefinition: Record<string, unknown> = {};
    let serviceName = '';
    for (const [key, method] of Object.entries(definition)) {
      serviceName = method.path.split('/')[1]!;
      safeDefinition[key] = {
        ...method,
        requestDeserialize: safeDeserializer(method.requestDeserialize),
      };
      const handler = handlers[key as keyof D] as unknown;
      wrapped[key] = method.responseStream
        ? this.wrapStream(method.path, handler as StreamHandler<unknown, unknown>)
        : this.wrapUnary(method.path, handler as UnaryHandler<unknown, unknown>);
    }
    this.server.addService(safeDefinition as ServiceDefinition, wrapped);
    this.serviceNames.push(serviceName);
    this.health.setStatus(serviceName, 'NOT_SERVING');
  }

  async listen(): Promise<number> {
    if (this.options.descriptorSetPath && this.options.reflection !== false)
      this.addReflection(readFileSync(this.options.descriptorSetPath));
    const credentials = this.credentials();
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(
        `${this.options.host}:${this.options.port}`,
        credentials,
        (error, port) => (error ? reject(error) : resolve(port)),
      ),
    );
    if (this.options.healthPort) await this.listenHealth(this.options.healthPort);
    this.setServing(true);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The plaintext health port actually bound (0 when there is none). */
  get healthPort(): number {
    return this.boundHealthPort;
  }

  /** Only grpc.health.v1, sharing the statuses of the main server: nothing else is reachable here. */
  private async listenHealth(port: number): Promise<void> {
    const server = new Server({ 'grpc.max_receive_message_length': 1024 });
    this.health.addToServer(server);
    this.boundHealthPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${this.options.host}:${port}`,
        ServerCredentials.createInsecure(),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    this.healthServer = server;
  }

  /**
   * grpc.reflection v1 and v1alpha for identified callers only. The descriptor set is read now (a
   * missing file stops the start); the reflection package loads and parses it at the first call
   * (LazyReflection). Reflection describes what this server serves, not every service in the
   * shared descriptor set.
   */
  private addReflection(descriptorSet: Buffer): void {
    const reflection = new LazyReflection(descriptorSet, () => this.serviceNames);
    for (const { definition, path } of reflection.definitions()) {
      const guarded: UntypedServiceImplementation = {};
      for (const key of Object.keys(definition))
        guarded[key] = (call: ServerDuplexStream<Buffer, Buffer>) => {
          const fail = (error: unknown) => call.emit('error', this.failure(path, error));
          try {
            this.authenticator.identify(call, call.metadata);
          } catch (error) {
            fail(error);
            return;
          }
          reflection.serve(path, call, fail);
        };
      this.server.addService(definition, guarded);
    }
  }

  setServing(serving: boolean): void {
    const value = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', value);
    for (const name of this.serviceNames) this.health.setStatus(name, value);
  }

  /** Stop accepting, let in-flight calls finish for up to `graceMs`, then cut the rest. */
  async shutdown(graceMs = 10_000): Promise<void> {
    this.setServing(false);
    this.healthServer?.forceShutdown();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private credentials(): ServerCredentials {
    const tls = this.options.tls;
    if (!tls?.enabled) return ServerCredentials.createInsecure();
    if (!tls.certFile || !tls.keyFile || !tls.caFile)
      throw new Error('tls.enabled needs tls.cert_file, tls.key_file and tls.ca_file');
    // Read once here so a missing or unreadable file stops the start instead of every handshake.
    for (const file of [tls.certFile, tls.keyFile, tls.caFile]) readFileSync(file);
    const files = new experimental.FileWatcherCertificateProvider({
      certificateFile: tls.certFile,
      privateKeyFile: tls.keyFile,
      caCertificateFile: tls.caFile,
      refreshIntervalMs: tls.reloadIntervalMs ?? TLS_RELOAD_INTERVAL_MS,
    });
    return experimental.createCertificateProviderServerCredentials(files, files, true);
  }

  /** What the kit knows of a method from its registration on, so a call computes none of it. */
  private methodState(path: string): MethodState {
    const [service = '', method = ''] = path.slice(1).split('/');
    return {
      path,
      spanName: path.slice(1),
      spanAttributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
      durations: [],
    };
  }

  private wrapUnary(path: string, handler: UnaryHandler<unknown, unknown>) {
    const state = this.methodState(path);
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const kitCall = new KitCall(call, state);
      withLogContext(kitCall, () =>
        this.run(kitCall, handler, call.request).then(
          (response) => {
            kitCall.settle();
            this.observe(kitCall, status.OK);
            callback(null, response);
          },
          (error: unknown) => {
            kitCall.settle();
            const failure = this.failure(path, error);
            this.observe(kitCall, failure.code ?? status.INTERNAL, failure.details);
            callback(failure as never, null);
          },
        ),
      );
    };
  }

  private wrapStream(path: string, handler: StreamHandler<unknown, unknown>) {
    const state = this.methodState(path);
    return (call: ServerWritableStream<unknown, unknown>) => {
      const send = (message: unknown) =>
        new Promise<void>((resolve, reject) => {
          if (call.cancelled || call.destroyed)
            return reject(new AppError('ABORTED', 'CANCELLED', 'stream cancelled'));
          if (call.write(message)) resolve();
          else call.once('drain', () => resolve());
        });
      const kitCall = new KitCall(call, state);
      const streamHandler: UnaryHandler<unknown, void> = (request, info) =>
        handler(request, info, send);
      withLogContext(kitCall, () =>
        this.run(kitCall, streamHandler, call.request).then(
          () => {
            kitCall.settle();
            this.observe(kitCall, status.OK);
            call.end();
          },
          (error: unknown) => {
            kitCall.settle();
            if (call.cancelled) return;
            const failure = this.failure(path, error);
            this.observe(kitCall, failure.code ?? status.INTERNAL, failure.details);
            call.emit('error', failure);
          },
        ),
      );
    };
  }

  /**
   * Decoding, identity and principal, then the handler: synchronous up to the handler unless the
   * call carries a bearer token, so a call costs no promise of the kit's own.
   */
  private run<T>(
    kitCall: KitCall,
    handler: UnaryHandler<unknown, T>,
    request: unknown,
  ): Promise<T> {
    try {
      if (request instanceof DecodeFailure) {
        throw new AppError(
          'INVALID_ARGUMENT',
          'MALFORMED_REQUEST',
          'request could not be decoded',
          { cause: request.message },
        );
      }
      const metadata = kitCall.metadata;
      const service = this.authenticator.identify(kitCall.call, metadata);
      const ctx: CallContext = { service: { name: service }, requestId: kitCall.requestId };
      ctx.traceparent = kitCall.trace.traceparent;
      if (kitCall.trace.tracestate !== undefined) ctx.tracestate = kitCall.trace.tracestate;
      const minRevision = firstString(metadata, MIN_REVISION_METADATA);
      if (minRevision !== undefined) ctx.minRevision = parseMinRevision(minRevision);
      kitCall.ctx = ctx;
      const token = bearerToken(metadata);
      if (token === undefined) return handler(request, kitCall);
      const resolveUser = this.options.resolveUser;
      if (!resolveUser)
        throw new AppError(
          'UNAUTHENTICATED',
          'SESSION_NOT_FOUND',
          'user tokens are not accepted here',
        );
      return resolveUser(token, ctx).then((user) => {
        ctx.user = user;
        ctx.bearerToken = token;
        return handler(request, kitCall);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private failure(path: string, error: unknown): ReturnType<typeof toStatus> {
    const logger = this.options.logger;
    if (isAppError(error)) {
      if (error.kind === 'INTERNAL') logger.error({ err: error, method: path }, 'rpc failed');
      else {
        // The cause (a dependency's address and errno, authz's reasoning) is for the log alone.
        const fields = { method: path, reason: error.reason, cause: describeCause(error.cause) };
        if (isClientKind(error.kind)) logger.debug(fields, error.message);
        else logger.warn(fields, error.message);
      }
      return toStatus(error);
    }
    if (this.options.isUnavailable?.(error))
      return this.failure(
        path,
        new AppError('UNAVAILABLE', 'UNAVAILABLE', 'a dependency is unavailable; retry', {
          cause: error,
          retryAfterMs: 1_000,
        }),
      );
    // Unknown errors are logged once, here, and reach the caller as a bare INTERNAL.
    logger.error({ err: error, method: path }, 'unexpected error');
    return internalStatus();
  }

  private observe(kitCall: KitCall, code: status, message?: string): void {
    const ended = performance.now();
    const rpcDuration = this.options.rpcDuration;
    if (rpcDuration) {
      // One labelled child per method and code, made at its first call.
      const durations = kitCall.state.durations;
      const observer = (durations[code] ??= rpcDuration.labels({
        method: kitCall.state.path,
        code: status[code] ?? String(code),
      }));
      observer.observe((ended - kitCall.started) / 1000);
    }
    kitCall.span?.end({
      endMs: performance.timeOrigin + ended,
      attributes: { 'rpc.grpc.status_code': code },
      // OpenTelemetry's rule for servers: only these codes are the server's own failure.
      ...(SERVER_FAULTS.has(code) ? { error: message ?? status[code] } : {}),
    });
  }
}

/** What `serverSecurity` reads of a service's config. */
export interface ServerSecurityConfig {
  grpc: {
    health_port: number;
    reflection?: boolean;
    tls: { enabled: boolean; cert_file: string; key_file: string; ca_file: string };
  };
  auth: {
    service_keys: Record<string, string | readonly string[]>;
    allowed_services: readonly string[];
  };
}

/** The server kit's identity options from a service's config, the same for every server. */
export function serverSecurity(
  config: ServerSecurityConfig,
): Pick<ServerKitOptions, 'serviceKeys' | 'tls' | 'allowedServices' | 'healthPort' | 'reflection'> {
  const { tls } = config.grpc;
  return {
    serviceKeys: config.auth.service_keys,
    tls: {
      enabled: tls.enabled,
      certFile: tls.cert_file,
      keyFile: tls.key_file,
      caFile: tls.ca_file,
    },
    allowedServices: config.auth.allowed_services,
    healthPort: config.grpc.health_port,
    reflection: config.grpc.reflection ?? true,
  };
}

/** A method's path, span name and attributes, and its rpcDuration children by status code. */
interface MethodState {
  path: string;
  spanName: string;
  spanAttributes: Readonly<Record<string, string>>;
  durations: Array<Observer | undefined>;
}

type Observer = ReturnType<DurationHistogram['labels']>;

/** The call's trace context, and its SERVER span while tracing is on. */
interface CallTrace {
  context: TraceContext;
  span?: ActiveSpan;
}

/** The SERVER span starts with the call, as a child of the caller's context; off, only the context goes on. */
function startSpan(state: MethodState, metadata: Metadata): CallTrace {
  const traceparent = firstString(metadata, 'traceparent');
  const tracestate = firstString(metadata, 'tracestate');
  const spans = tracer();
  if (!spans.enabled) return { context: continueTrace(traceparent, tracestate) };
  const span = spans.start(
    state.spanName,
    'server',
    traceparent ? { traceparent, ...(tracestate ? { tracestate } : {}) } : undefined,
    { attributes: state.spanAttributes },
  );
  return { context: span.context, span };
}

/**
 * One call as the kit runs it: what its handler gets (CallInfo) and what its log lines carry
 * (LogContext, the trace id read only when a line is written). One object per call, no closures.
 */
class KitCall implements CallInfo, LogContext {
  readonly started = performance.now();
  readonly metadata: Metadata;
  readonly requestId: string;
  readonly trace: TraceContext;
  readonly span: ActiveSpan | undefined;
  /** Set once the caller is identified, before the handler runs. */
  ctx!: CallContext;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private opened = false;

  constructor(
    readonly call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
    readonly state: MethodState,
  ) {
    this.metadata = call.metadata;
    this.requestId = firstString(this.metadata, 'x-request-id')?.slice(0, 128) ?? randomUUID();
    const { context, span } = startSpan(state, this.metadata);
    this.trace = context;
    this.span = span;
  }

  get traceId(): string {
    return traceIdOf(this.trace.traceparent);
  }

  /** Built on first use: most unary handlers never look at it, and the hot paths pay nothing. */
  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const abort = new AbortController();
    this.controller = abort;
    this.call.once('cancelled', () => abort.abort());
    const deadline = this.call.getDeadline();
    const remaining =
      deadline instanceof Date ? deadline.getTime() - Date.now() : Number.POSITIVE_INFINITY;
    if (Number.isFinite(remaining))
      this.timer = setTimeout(() => abort.abort(), Math.max(0, remaining));
    return abort.signal;
  }

  open(headers: Readonly<Record<string, string>> = {}): void {
    if (this.opened || !('write' in this.call) || this.call.cancelled) return;
    this.opened = true;
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
    this.call.sendMetadata(metadata);
  }

  /** The handler is done: a deadline timer the signal started goes. */
  settle(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

const SERVER_FAULTS = new Set<status>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/** grpc-js answers INTERNAL when a deserializer throws; ours never throws, the handler answers INVALID_ARGUMENT. */
function safeDeserializer(deserialize: (bytes: Buffer) => unknown) {
  return (bytes: Buffer): unknown => {
    try {
      return deserialize(bytes);
    } catch (error) {
      return new DecodeFailure((error as Error).message);
    }
  };
}

function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function bearerToken(metadata: Metadata): string | undefined {
  const header = firstString(metadata, 'authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw new AppError(
      'UNAUTHENTICATED',
      'MALFORMED_AUTHORIZATION',
      'authorization must be "Bearer <token>"',
    );
  return match[1];
}
