import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  NO_TRACING,
  OtlpHttpTracer,
  recordConsumerSpan,
  setTracer,
  startTracing,
  tracer,
  type SpanRecord,
} from './tracing.js';

/** The part of an OTLP/HTTP JSON request these tests read. */
interface OtlpBody {
  resourceSpans: Array<{
    resource: { attributes: unknown[] };
    scopeSpans: Array<{ spans: Array<Record<string, unknown> & { name: string }> }>;
  }>;
}

const spansOf = (body: OtlpBody) => body.resourceSpans[0]!.scopeSpans[0]!.spans;

/** A stand-in OTLP/HTTP collector on loopback: keeps every request's path and JSON body. */
async function collector(answer = 200) {
  const requests: Array<{ path: string; type: string; body: OtlpBody }> = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    let text = '';
    for await (const chunk of request) text += chunk;
    requests.push({
      path: request.url ?? '',
      type: request.headers['content-type'] ?? '',
      body: JSON.parse(text),
    });
    response.statusCode = answer;
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const aSpan = (overrides: Partial<SpanRecord> = {}): SpanRecord => ({
  name: 'warden.user.v1.UserService/GetUser',
  kind: 'server',
  traceparent: `00-${TRACE}-1111111111111111-01`,
  parent: `00-${TRACE}-2222222222222222-01`,
  startMs: 1_700_000_000_000.25,
  endMs: 1_700_000_000_003.5,
  attributes: { 'rpc.system': 'grpc', 'rpc.grpc.status_code': 0, sampled: true, ratio: 0.5 },
  ...overrides,
});
const logger = () => ({ warn: vi.fn() });

afterEach(() => {
  setTracer(NO_TRACING);
});

describe('OTLP/HTTP span export', () => {
  it('posts spans as OTLP JSON to <endpoint>/v1/traces, with the service as resource', async () => {
    const c = await collector();
    const otlp = new OtlpHttpTracer({
      endpoint: c.endpoint,
      serviceName: 'user-service',
      logger: logger(),
    });
    try {
      otlp.record(aSpan());
      otlp.record(
        aSpan({ traceparent: `00-${TRACE}-3333333333333333-01`, error: 'internal error' }),
      );
      await otlp.flush();
    } finally {
      await otlp.shutdown();
      await c.close();
    }
    expect(c.requests).toHaveLength(1);
    const [request] = c.requests;
    expect(request!.path).toBe('/v1/traces');
    expect(request!.type).toBe('application/json');
    expect(request!.body.resourceSpans[0]!.resource.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'user-service' } },
    ]);
    const [ok, failed] = spansOf(request!.body);
    expect(ok).toEqual({
      traceId: TRACE,
      spanId: '1111111111111111',
      parentSpanId: '2222222222222222',
      name: 'warden.user.v1.UserService/GetUser',
      kind: 2,
      startTimeUnixNano: '1700000000000250000',
      endTimeUnixNano: '1700000000003500000',
      attributes: [
        { key: 'rpc.system', value: { stringValue: 'grpc' } },
        { key: 'rpc.grpc.status_code', value: { intValue: '0' } },
        { key: 'sampled', value: { boolValue: true } },
        { key: 'ratio', value: { doubleValue: 0.5 } },
      ],
      status: { code: 1 },
    });
    expect(failed!.status).toEqual({ code: 2, message: 'internal error' });
  });

  it('sends a full batch at once, and the rest on shutdown', async () => {
    const c = await collector();
    const otlp = new OtlpHttpTracer({
      endpoint: c.endpoint,
      serviceName: 's',
      logger: logger(),
      maxBatch: 2,
      flushIntervalMs: 60_000,
    });
    otlp.record(aSpan());
    otlp.record(aSpan());
    otlp.record(aSpan());
    await otlp.shutdown();
    await c.close();
    expect(c.requests.map((r) => spansOf(r.body).length)).toEqual([2, 1]);
  });

  it('keeps only the newest spans while the collector is away, warns once, and never throws', async () => {
    const c = await collector(503);
    const log = logger();
    const otlp = new OtlpHttpTracer({
      endpoint: c.endpoint,
      serviceName: 's',
      logger: log,
      maxBatch: 10,
      maxQueue: 3,
      flushIntervalMs: 60_000,
    });
    for (let i = 0; i < 5; i++) otlp.record(aSpan({ name: `span ${i}` }));
    await otlp.flush();
    await otlp.shutdown();
    await c.close();
    const sent = spansOf(c.requests[0]!.body).map((span) => span.name);
    expect(sent).toEqual(['span 2', 'span 3', 'span 4']);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toMatchObject({
      reason: 'collector answered 503',
      droppedWhileQueued: 2,
    });

    const unreachable = new OtlpHttpTracer({
      endpoint: c.endpoint, // closed now
      serviceName: 's',
      logger: log,
      flushIntervalMs: 60_000,
    });
    unreachable.record(aSpan());
    await expect(unreachable.shutdown()).resolves.toBeUndefined();
  });

  it('gives a hanging collector a bounded time at shutdown, then drops the rest with a warning', async () => {
    const hanging = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const log = logger();
    const otlp = new OtlpHttpTracer({
      endpoint: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
      serviceName: 's',
      logger: log,
      maxBatch: 1,
      flushIntervalMs: 60_000,
      timeoutMs: 10_000,
    });
    for (let i = 0; i < 5; i++) otlp.record(aSpan());
    const started = Date.now();
    await otlp.shutdown(300);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ reason: 'shutting down' }),
      'spans not exported',
    );
    hanging.closeAllConnections();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
  });

  it('leaves a parent of another trace out, and ignores a malformed traceparent', async () => {
    const otlp = new OtlpHttpTracer({
      endpoint: 'http://127.0.0.1:9',
      serviceName: 's',
      logger: logger(),
    });
    const body = otlp.payload([
      aSpan({ parent: `00-${'f'.repeat(32)}-2222222222222222-01` }),
    ]) as OtlpBody;
    expect(spansOf(body)[0]!.parentSpanId).toBeUndefined();
    otlp.record(aSpan({ traceparent: 'not-a-traceparent' }));
    expect((otlp as unknown as { queue: unknown[] }).queue).toHaveLength(0);
    await otlp.shutdown();
  });
});

describe('the process tracer', () => {
  it('is off unless an endpoint is configured', () => {
    expect(startTracing({ endpoint: '', serviceName: 's', logger: logger() })).toBe(NO_TRACING);
    expect(tracer().enabled).toBe(false);
    recordConsumerSpan({
      event: { id: 'e', type: 't' },
      durable: 'd',
      startMs: 0,
      endMs: 1,
    }); // a no-op when off
  });

  it("records a consumer span as a child of the event's traceparent", async () => {
    const spans: SpanRecord[] = [];
    setTracer({ ...NO_TRACING, enabled: true, record: (span) => spans.push(span) });
    recordConsumerSpan({
      event: {
        id: 'e1',
        type: 'warden.user.v1.registered',
        traceparent: `00-${TRACE}-2222222222222222-01`,
      },
      durable: 'authz-service-user-events',
      startMs: 10,
      endMs: 12,
      error: new Error('db down'),
    });
    recordConsumerSpan({
      event: { id: 'e2', type: 'warden.user.v1.deleted' },
      durable: 'd',
      startMs: 1,
      endMs: 2,
    });
    expect(spans[0]).toMatchObject({
      name: 'warden.user.v1.registered process',
      kind: 'consumer',
      parent: `00-${TRACE}-2222222222222222-01`,
      error: 'db down',
      attributes: {
        'messaging.system': 'nats',
        'messaging.destination.name': 'warden.user.v1.registered',
        'messaging.message.id': 'e1',
        'messaging.consumer.group.name': 'authz-service-user-events',
      },
    });
    expect(spans[0]!.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    // No context on the event: a trace of its own.
    expect(spans[1]!.parent).toBeUndefined();
    expect(spans[1]!.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
