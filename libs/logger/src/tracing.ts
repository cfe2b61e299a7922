import { createRequire } from 'node:module';
import type {
  Span,
  SpanKind as OtelKind,
  SpanStatusCode,
  Tracer as OtelTracer,
} from '@opentelemetry/api';
import type { BasicTracerProvider, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { continueTrace, remoteSpanContext, type TraceContext } from './trace-context.js';

/**
 * Spans through the OpenTelemetry SDK, exported over OTLP/HTTP (protobuf) to a collector. Trace
 * context is W3C `traceparent`/`tracestate` end to end (gRPC metadata, NATS headers, the outbox).
 * The span points are ours and few (an RPC served or called, an event published or handled), so
 * off (the default) a call site pays one `enabled` check.
 */
export type SpanKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';
export type Attrs = Record<string, string | number | boolean>;

export interface ActiveSpan {
  /** This span's context, to send to the next hop. */
  readonly context: TraceContext;
  /** `error` sets the span's status to ERROR with that message. */
  end(o?: { error?: string; attributes?: Attrs; endMs?: number }): void;
}

export interface StartOptions {
  /** Epoch milliseconds (fractions allowed); now when left out. */
  startMs?: number;
  attributes?: Attrs;
  /** Related spans that are not the parent (a consumer's producer). */
  links?: readonly TraceContext[];
}

export interface Tracer {
  readonly enabled: boolean;
  /** A child of `parent` (the caller's context), or the root of a new trace. */
  start(name: string, kind: SpanKind, parent?: TraceContext, o?: StartOptions): ActiveSpan;
  /** Exports what is queued. */
  flush(): Promise<void>;
  /** Exports what is queued (within a bounded time) and stops. */
  shutdown(): Promise<void>;
}

/** Off: spans are not recorded, but the trace still goes on to the next hop. */
export const NO_TRACING: Tracer = {
  enabled: false,
  start: (_name, _kind, parent) => ({
    context: continueTrace(parent?.traceparent, parent?.tracestate),
    end: () => undefined,
  }),
  flush: async () => undefined,
  shutdown: async () => undefined,
};

let current: Tracer = NO_TRACING;

/** The process's tracer (NO_TRACING until startTracing or setTracer). */
export const tracer = (): Tracer => current;

/** For tests, and for startTracing. Returns the previous one. */
export function setTracer(next: Tracer): Tracer {
  const previous = current;
  current = next;
  return previous;
}

export interface TracingOptions {
  serviceName: string;
  /** Collector base URL, e.g. http://otel-collector:4318 (spans go to <endpoint>/v1/traces). */
  endpoint?: string;
  logger: Pick<Logger, 'warn'>;
  /** Where spans go instead of OTLP (tests). */
  exporter?: SpanExporter;
  /** How long shutdown waits for the last export. */
  shutdownTimeoutMs?: number;
}

/**
 * Makes an SDK tracer the process's tracer when there is somewhere to send spans, and returns the
 * tracer in use. The SDK reads the standard variables: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (wins
 * over `endpoint`), OTEL_EXPORTER_OTLP_HEADERS/TIMEOUT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_TRACES_SAMPLER(_ARG) (default parentbased_always_on: the caller's sampled flag decides),
 * OTEL_BSP_*; OTEL_SDK_DISABLED=true turns tracing off.
 */
export function startTracing(options: TracingOptions): Tracer {
  if (envFlag('OTEL_SDK_DISABLED')) return tracer();
  const exporter = options.exporter ?? otlpExporter(options.endpoint);
  if (!exporter) return tracer();
  const sdk = new SdkTracer(options, exporter);
  setTracer(sdk);
  return sdk;
}

/**
 * The OpenTelemetry API, core, SDK, the OTLP exporter and the resource detectors are loaded only
 * once tracing is on: a process that does not trace (the default) holds none of them (some MB of
 * its idle RSS; tracing.test.ts checks that none is loaded).
 */
const load = createRequire(import.meta.url);
const api = () => load('@opentelemetry/api') as typeof import('@opentelemetry/api');
const core = () => load('@opentelemetry/core') as typeof import('@opentelemetry/core');
const sdkTraceBase = () =>
  load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
const resources = () =>
  load('@opentelemetry/resources') as typeof import('@opentelemetry/resources');

/** As @opentelemetry/core's getBooleanFromEnv: `true` in any case, trimmed; anything else is false. */
function envFlag(name: string): boolean {
  return process.env[name]?.trim().toLowerCase() === 'true';
}

/** As @opentelemetry/core's getStringFromEnv: set and not blank. */
function envSet(name: string): boolean {
  return Boolean(process.env[name]?.trim());
}

function otlpExporter(endpoint: string | undefined): SpanExporter | undefined {
  const fromEnv = envSet('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (!fromEnv && !endpoint && !envSet('OTEL_EXPORTER_OTLP_ENDPOINT')) return undefined;
  const { OTLPTraceExporter } = load(
    '@opentelemetry/exporter-trace-otlp-proto',
  ) as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  // Without a traces endpoint of its own, the exporter reads the OTEL_EXPORTER_OTLP_* variables.
  return !fromEnv && endpoint
    ? new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` })
    : new OTLPTraceExporter();
}

class SdkTracer implements Tracer {
  readonly enabled = true;
  private readonly provider: BasicTracerProvider;
  private readonly otel: OtelTracer;
  private readonly shutdownTimeoutMs: number;
  private readonly api = api();
  private readonly kinds: Record<SpanKind, OtelKind>;

  constructor(options: TracingOptions, exporter: SpanExporter) {
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
    const { SpanKind: OtelKind } = this.api;
    this.kinds = {
      internal: OtelKind.INTERNAL,
      server: OtelKind.SERVER,
      client: OtelKind.CLIENT,
      producer: OtelKind.PRODUCER,
      consumer: OtelKind.CONSUMER,
    };
    const { BasicTracerProvider, BatchSpanProcessor } = sdkTraceBase();
    const { defaultResource, detectResources, envDetector, resourceFromAttributes } = resources();
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over our name.
    const resource = defaultResource()
      .merge(resourceFromAttributes({ 'service.name': options.serviceName }))
      .merge(detectResources({ detectors: [envDetector] }));
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    this.otel = this.provider.getTracer('@warden/logger');
    core().setGlobalErrorHandler(rateLimitedWarning(options.logger));
  }

  start(name: string, kind: SpanKind, parent?: TraceContext, o?: StartOptions): ActiveSpan {
    const { ROOT_CONTEXT, trace } = this.api;
    const remote = remoteSpanContext(parent);
    const span = this.otel.startSpan(
      name,
      {
        kind: this.kinds[kind],
        ...(o?.startMs === undefined ? {} : { startTime: o.startMs }),
        ...(o?.attributes ? { attributes: o.attributes } : {}),
        ...(o?.links
          ? {
              links: o.links.flatMap((link) => {
                const context = remoteSpanContext(link);
                return context ? [{ context }] : [];
              }),
            }
          : {}),
      },
      remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT,
    );
    return new SdkSpan(span, this.api.SpanStatusCode.ERROR);
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** A hanging collector must not hold up exit. */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown().catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
  }
}

class SdkSpan implements ActiveSpan {
  readonly context: TraceContext;

  constructor(
    private readonly span: Span,
    private readonly errorCode: SpanStatusCode,
  ) {
    const { traceId, spanId, traceFlags, traceState } = span.spanContext();
    const state = traceState?.serialize();
    this.context = {
      traceparent: `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`,
      ...(state ? { tracestate: state } : {}),
    };
  }

  end(o?: { error?: string; attributes?: Attrs; endMs?: number }): void {
    if (o?.attributes) this.span.setAttributes(o.attributes);
    if (o?.error !== undefined)
      this.span.setStatus({ code: this.errorCode, message: o.error.slice(0, 1_000) });
    this.span.end(o?.endMs);
  }
}

/** At most one warning a minute: a collector that is away must not flood the logs. */
function rateLimitedWarning(logger: Pick<Logger, 'warn'>): (error: unknown) => void {
  let last = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 60_000) return;
    last = now;
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn({ reason }, 'spans not exported');
  };
}

/**
 * A consumer span for one handled event, as a DurableConsumer `observe` hook: a child of the
 * context the event carries (the RPC that wrote it), so a trace follows a change across NATS.
 */
export function recordConsumerSpan(handled: {
  event: { id: string; type: string; traceparent?: string };
  durable: string;
  startMs: number;
  endMs: number;
  error?: unknown;
}): void {
  const { event } = handled;
  recordMessagingSpan(`${event.type} process`, 'consumer', event.traceparent, handled, {
    'messaging.operation.type': 'process',
    'messaging.destination.name': event.type,
    'messaging.message.id': event.id,
    'messaging.consumer.group.name': handled.durable,
  });
}

/** One publish attempt of an outbox row, as the relay reports it to its `observe` hook. */
export type PublishedMessage = {
  subject: string;
  eventId: string;
  /** The context the row was written in. */
  traceparent?: string;
  /** Epoch milliseconds. */
  startMs: number;
  endMs: number;
  error?: string;
};

/**
 * A producer span for one outbox row published by the relay: a child of the context the row was
 * written in. The message keeps that context, so its consumers stay children of the same RPC.
 */
export function recordProducerSpan(row: PublishedMessage): void {
  recordMessagingSpan(`${row.subject} publish`, 'producer', row.traceparent, row, {
    'messaging.operation.type': 'send',
    'messaging.destination.name': row.subject,
    'messaging.message.id': row.eventId,
  });
}

/** One finished NATS span, child of `traceparent`; nothing at all while tracing is off. */
function recordMessagingSpan(
  name: string,
  kind: 'consumer' | 'producer',
  traceparent: string | undefined,
  timing: { startMs: number; endMs: number; error?: unknown },
  attributes: Record<string, string>,
): void {
  const spans = tracer();
  if (!spans.enabled) return;
  const { error } = timing;
  spans
    .start(name, kind, traceparent ? { traceparent } : undefined, {
      startMs: timing.startMs,
      attributes: { 'messaging.system': 'nats', ...attributes },
    })
    .end({
      endMs: timing.endMs,
      ...(error === undefined
        ? {}
        : { error: error instanceof Error ? error.message : String(error) }),
    });
}
