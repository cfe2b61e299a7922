import { SpanKind as OtelKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  NO_TRACING,
  recordConsumerSpan,
  recordProducerSpan,
  setTracer,
  startTracing,
  tracer,
  type Tracer,
} from './tracing.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = `00-${TRACE}-2222222222222222-01`;
const logger = () => ({ warn: vi.fn() });

let started: Tracer | undefined;
afterEach(async () => {
  await started?.shutdown();
  started = undefined;
  setTracer(NO_TRACING);
  vi.unstubAllEnvs();
});

/** The SDK tracer with spans kept in memory. */
function inMemory(serviceName = 'user-service') {
  const exporter = new InMemorySpanExporter();
  started = startTracing({ serviceName, logger: logger(), exporter });
  return {
    spans: started,
    finished: async () => {
      await started!.flush();
      return exporter.getFinishedSpans();
    },
  };
}

describe('the SDK tracer', () => {
  it("records a span as a child of the caller's context, with kind, attributes and status", async () => {
    const { spans, finished } = inMemory();
    expect(tracer()).toBe(spans);
    const span = spans.start(
      'warden.user.v1.UserService/GetUser',
      'server',
      {
        traceparent: PARENT,
      },
      { startMs: 1_700_000_000_000.25, attributes: { 'rpc.system': 'grpc' } },
    );
    expect(span.context.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    span.end({
      error: 'db down',
      attributes: { 'rpc.grpc.status_code': 14 },
      endMs: 1_700_000_000_003.5,
    });
    const [exported] = await finished();
    expect(exported).toMatchObject({
      name: 'warden.user.v1.UserService/GetUser',
      kind: OtelKind.SERVER,
      parentSpanContext: { traceId: TRACE, spanId: '2222222222222222' },
      attributes: { 'rpc.system': 'grpc', 'rpc.grpc.status_code': 14 },
      status: { code: SpanStatusCode.ERROR, message: 'db down' },
      startTime: [1_700_000_000, 250_000],
      endTime: [1_700_000_000, 3_500_000],
    });
    expect(exported!.spanContext().spanId).toBe(span.context.traceparent.slice(36, 52));
    expect(exported!.resource.attributes['service.name']).toBe('user-service');
  });

  it("honours the caller's unsampled flag: nothing exported, the context goes on with 00", async () => {
    const { spans, finished } = inMemory();
    const span = spans.start('s', 'server', {
      traceparent: `00-${TRACE}-2222222222222222-00`,
      tracestate: 'warden=t',
    });
    span.end();
    expect(span.context.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    expect(span.context.traceparent).not.toContain('2222222222222222');
    expect(span.context.tracestate).toBe('warden=t');
    expect(await finished()).toHaveLength(0);
  });

  it('carries tracestate to the span and its children, and starts a trace without a parent', async () => {
    const { spans, finished } = inMemory();
    const server = spans.start('server', 'server', { traceparent: PARENT, tracestate: 'warden=t' });
    const client = spans.start('client', 'client', server.context);
    expect(client.context.tracestate).toBe('warden=t');
    client.end();
    server.end();
    const root = spans.start('root', 'internal', { traceparent: 'garbage' });
    root.end();
    const [c, s, r] = await finished();
    expect(s!.spanContext().traceState?.serialize()).toBe('warden=t');
    expect(c!.parentSpanContext?.spanId).toBe(s!.spanContext().spanId);
    expect(r!.parentSpanContext).toBeUndefined();
    expect(r!.spanContext().traceId).not.toBe(TRACE);
  });

  it('reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
    vi.stubEnv('OTEL_SERVICE_NAME', 'renamed');
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'deployment.environment.name=staging');
    const { spans, finished } = inMemory();
    spans.start('s', 'internal').end();
    const [exported] = await finished();
    expect(exported!.resource.attributes).toMatchObject({
      'service.name': 'renamed',
      'deployment.environment.name': 'staging',
    });
  });
});

describe('the process tracer', () => {
  it('is off unless an endpoint is configured, and off pays nothing but the next context', () => {
    expect(startTracing({ endpoint: '', serviceName: 's', logger: logger() })).toBe(NO_TRACING);
    expect(tracer().enabled).toBe(false);
    const span = tracer().start('s', 'server', { traceparent: PARENT, tracestate: 'warden=t' });
    expect(span.context.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(span.context.tracestate).toBe('warden=t');
    recordConsumerSpan({
      event: { id: 'e', type: 't' },
      durable: 'd',
      startMs: 0,
      endMs: 1,
    }); // a no-op when off
  });

  it('is off with OTEL_SDK_DISABLED, whatever the endpoint', () => {
    vi.stubEnv('OTEL_SDK_DISABLED', 'true');
    expect(
      startTracing({ endpoint: 'http://127.0.0.1:4318', serviceName: 's', logger: logger() }),
    ).toBe(NO_TRACING);
    expect(tracer()).toBe(NO_TRACING);
  });

  it("records a consumer span as a child of the event's traceparent", async () => {
    const { finished } = inMemory('authz-service');
    recordConsumerSpan({
      event: { id: 'e1', type: 'warden.user.v1.registered', traceparent: PARENT },
      durable: 'authz-service-user-events',
      startMs: 1_700_000_000_010,
      endMs: 1_700_000_000_012,
      error: new Error('db down'),
    });
    recordConsumerSpan({
      event: { id: 'e2', type: 'warden.user.v1.deleted' },
      durable: 'd',
      startMs: 1_700_000_000_001,
      endMs: 1_700_000_000_002,
    });
    const [consumed, orphan] = await finished();
    expect(consumed).toMatchObject({
      name: 'warden.user.v1.registered process',
      kind: OtelKind.CONSUMER,
      parentSpanContext: { traceId: TRACE, spanId: '2222222222222222' },
      status: { code: SpanStatusCode.ERROR, message: 'db down' },
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': 'warden.user.v1.registered',
        'messaging.message.id': 'e1',
        'messaging.consumer.group.name': 'authz-service-user-events',
      },
    });
    expect(consumed!.spanContext().traceId).toBe(TRACE);
    // No context on the event: a trace of its own.
    expect(orphan!.parentSpanContext).toBeUndefined();
    expect(orphan!.spanContext().traceId).not.toBe(TRACE);
  });

  it("records a producer span per published row, as a child of the row's traceparent", async () => {
    const { finished } = inMemory();
    recordProducerSpan({
      subject: 'warden.user.v1.registered',
      eventId: 'e1',
      traceparent: PARENT,
      startMs: 1_700_000_000_010,
      endMs: 1_700_000_000_011,
      error: 'timeout',
    });
    const [published] = await finished();
    expect(published).toMatchObject({
      name: 'warden.user.v1.registered publish',
      kind: OtelKind.PRODUCER,
      parentSpanContext: { traceId: TRACE, spanId: '2222222222222222' },
      status: { code: SpanStatusCode.ERROR, message: 'timeout' },
      attributes: { 'messaging.operation.type': 'send', 'messaging.message.id': 'e1' },
    });
  });

  it('links a span to related contexts', async () => {
    const { spans, finished } = inMemory();
    spans
      .start('s', 'consumer', undefined, {
        links: [{ traceparent: PARENT }, { traceparent: 'garbage' }],
      })
      .end();
    const [linked] = await finished();
    expect(linked!.links.map((l) => l.context.spanId)).toEqual(['2222222222222222']);
  });
});
