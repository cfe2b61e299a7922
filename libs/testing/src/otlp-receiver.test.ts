import { NO_TRACING, setTracer, startTracing } from '@warden/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startOtlpReceiver } from './otlp-receiver.js';

afterEach(() => {
  setTracer(NO_TRACING);
});

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('the OTLP receiver', () => {
  it("decodes what the SDK's OTLP/HTTP protobuf exporter posts to <endpoint>/v1/traces", async () => {
    const receiver = await startOtlpReceiver();
    try {
      const spans = startTracing({
        serviceName: 'user-service',
        endpoint: `${receiver.endpoint}/`,
        logger: { warn: vi.fn() },
      });
      const served = spans.start('warden.user.v1.UserService/GetUser', 'server', {
        traceparent: PARENT,
        tracestate: 'warden=t',
      });
      spans.start('linked', 'consumer', undefined, { links: [served.context] }).end();
      served.end();
      await spans.shutdown();
      const [linked, server] = receiver.spans;
      expect(server).toEqual({
        service: 'user-service',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: served.context.traceparent.slice(36, 52),
        parentSpanId: '00f067aa0ba902b7',
        traceState: 'warden=t',
        name: 'warden.user.v1.UserService/GetUser',
        kind: 2,
        links: [],
      });
      expect(linked).toMatchObject({
        kind: 5,
        parentSpanId: '',
        links: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: server!.spanId }],
      });
    } finally {
      await receiver.close();
    }
  });

  it('refuses what is not OTLP protobuf on /v1/traces, and the tracer warns once a minute', async () => {
    const receiver = await startOtlpReceiver();
    vi.stubEnv('OTEL_BSP_SCHEDULE_DELAY', '20');
    try {
      const warn = vi.fn();
      const spans = startTracing({
        serviceName: 's',
        endpoint: `${receiver.endpoint}/elsewhere`,
        logger: { warn },
      });
      for (let i = 0; i < 3; i++) {
        spans.start(`span ${i}`, 'internal').end();
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      await spans.shutdown();
      expect(receiver.spans).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toBe('spans not exported');
    } finally {
      vi.unstubAllEnvs();
      await receiver.close();
    }
  });
});
