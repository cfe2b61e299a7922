import type { Logger } from 'pino';
import { ensureTraceparent, TRACEPARENT } from './trace-context.js';

/**
 * Spans, exported over OTLP/HTTP (JSON) to an OpenTelemetry collector (or Jaeger, Tempo, ...).
 * Trace context is W3C `traceparent` end to end (gRPC metadata, NATS headers, the outbox); a span
 * is recorded where a unit of work ends: an RPC served, an event handled. Off (the default), a
 * span costs one boolean check.
 */
export type SpanKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

export interface SpanRecord {
  name: string;
  kind: SpanKind;
  /** This span's context: `00-<trace id>-<span id>-<flags>`. */
  traceparent: string;
  /** The caller's or producer's context, when there was one. */
  parent?: string;
  /** Epoch milliseconds (fractions allowed). */
  startMs: number;
  endMs: number;
  /** Set when the work failed: the span's status is ERROR with this message. */
  error?: string;
  attributes?: Record<string, string | number | boolean>;
}

export interface Tracer {
  readonly enabled: boolean;
  record(span: SpanRecord): void;
  /** Sends what is queued; resolves once the collector answered or gave up. */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is queued (within a bounded time). */
  shutdown(): Promise<void>;
}

export const NO_TRACING: Tracer = {
  enabled: false,
  record: () => undefined,
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

export interface OtlpOptions {
  /** Collector base URL, e.g. http://otel-collector:4318 (spans go to <endpoint>/v1/traces). */
  endpoint: string;
  serviceName: string;
  logger: Pick<Logger, 'warn'>;
  flushIntervalMs?: number;
  /** Spans per request. */
  maxBatch?: number;
  /** Spans held while the collector is slow or away; beyond it the oldest are dropped. */
  maxQueue?: number;
  timeoutMs?: number;
}

/** Makes the OTLP tracer the process's tracer when `endpoint` is set; returns the tracer in use. */
export function startTracing(options: OtlpOptions): Tracer {
  if (!options.endpoint) return tracer();
  const otlp = new OtlpHttpTracer(options);
  setTracer(otlp);
  return otlp;
}

const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

export class OtlpHttpTracer implements Tracer {
  readonly enabled = true;
  private queue: SpanRecord[] = [];
  private dropped = 0;
  private sending: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly url: string;
  private readonly options: Required<OtlpOptions>;
  private lastWarning = 0;

  constructor(options: OtlpOptions) {
    this.options = {
      flushIntervalMs: 1_000,
      maxBatch: 512,
      maxQueue: 8_192,
      timeoutMs: 5_000,
      ...options,
    };
    this.url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  record(span: SpanRecord): void {
    if (!TRACEPARENT.test(span.traceparent)) return;
    if (this.queue.length >= this.options.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(span);
    if (this.queue.length >= this.options.maxBatch) void this.flush();
  }

  async flush(): Promise<void> {
    // One request at a time; a flush asked for meanwhile waits for it, then sends the rest.
    while (this.sending) await this.sending;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.sending = this.send(batch).finally(() => (this.sending = undefined));
    await this.sending;
    if (this.queue.length >= this.options.maxBatch) await this.flush();
  }

  /** Sends what is left for at most `withinMs` (a hanging collector must not hold up exit). */
  async shutdown(withinMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    const drained = (async () => {
      while (this.queue.length > 0 || this.sending) await this.flush();
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), withinMs))),
    ]);
    clearTimeout(timer);
    if (late) {
      this.lastWarning = 0;
      this.warn('shutting down', this.queue.length);
      this.queue = [];
    }
  }

  private async send(batch: SpanRecord[]): Promise<void> {
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.payload(batch)),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) this.warn(`collector answered ${response.status}`, batch.length);
    } catch (error) {
      this.warn((error as Error).message, batch.length);
    }
  }

  /** At most one warning a minute: a collector that is away must not flood the logs. */
  private warn(reason: string, lost: number): void {
    const now = Date.now();
    if (now - this.lastWarning < 60_000) return;
    this.lastWarning = now;
    this.options.logger.warn(
      { url: this.url, reason, lost, droppedWhileQueued: this.dropped },
      'spans not exported',
    );
  }

  /** OTLP/HTTP JSON (opentelemetry-proto ExportTraceServiceRequest). */
  payload(batch: readonly SpanRecord[]): object {
    return {
      resourceSpans: [
        {
          resource: { attributes: [attribute('service.name', this.options.serviceName)] },
          scopeSpans: [{ scope: { name: '@warden/logger' }, spans: batch.map(toOtlpSpan) }],
        },
      ],
    };
  }
}

function toOtlpSpan(span: SpanRecord): object {
  const [, traceId, spanId] = TRACEPARENT.exec(span.traceparent)!;
  const parent = span.parent ? TRACEPARENT.exec(span.parent) : null;
  return {
    traceId,
    spanId,
    // A parent from another trace is not ours to claim.
    ...(parent && parent[1] === traceId ? { parentSpanId: parent[2] } : {}),
    name: span.name,
    kind: KIND[span.kind],
    startTimeUnixNano: nanos(span.startMs),
    endTimeUnixNano: nanos(span.endMs),
    attributes: Object.entries(span.attributes ?? {}).map(([key, value]) => attribute(key, value)),
    status:
      span.error === undefined
        ? { code: STATUS_OK }
        : { code: STATUS_ERROR, message: span.error.slice(0, 1_000) },
  };
}

/** Epoch ms to a decimal string of ns (JSON numbers cannot hold them exactly). */
const nanos = (ms: number): string =>
  (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6))).toString();

function attribute(key: string, value: string | number | boolean): object {
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (typeof value === 'number')
    return Number.isInteger(value)
      ? { key, value: { intValue: String(value) } }
      : { key, value: { doubleValue: value } };
  return { key, value: { stringValue: value } };
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
  const spans = tracer();
  if (!spans.enabled) return;
  const { event } = handled;
  spans.record({
    name: `${event.type} process`,
    kind: 'consumer',
    traceparent: ensureTraceparent(event.traceparent),
    ...(event.traceparent ? { parent: event.traceparent } : {}),
    startMs: handled.startMs,
    endMs: handled.endMs,
    ...(handled.error === undefined
      ? {}
      : { error: handled.error instanceof Error ? handled.error.message : String(handled.error) }),
    attributes: {
      'messaging.system': 'nats',
      'messaging.operation.type': 'process',
      'messaging.destination.name': event.type,
      'messaging.message.id': event.id,
      'messaging.consumer.group.name': handled.durable,
    },
  });
}
