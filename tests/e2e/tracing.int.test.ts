import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, signIn } from '../support/flows.js';
import { startStack, type Stack } from '../support/stack.js';

// OpenTelemetry across gRPC and NATS, over real processes: every service exports its spans
// (OTLP/HTTP JSON) to a stand-in collector, and one registration makes one trace that crosses
// from user-service's RPC, through the outbox and NATS, into authz-service's worker; a sign-in's
// trace crosses from session-service into user-service over gRPC.

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}
const spans: Array<Span & { service: string }> = [];
let collector: Server;
let stack: Stack;

beforeAll(async () => {
  collector = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    const parsed = JSON.parse(body) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
        scopeSpans: Array<{ spans: Span[] }>;
      }>;
    };
    for (const resource of parsed.resourceSpans) {
      const service = resource.resource.attributes.find((a) => a.key === 'service.name')!.value
        .stringValue;
      for (const scope of resource.scopeSpans)
        for (const span of scope.spans) spans.push({ ...span, service });
    }
    response.end('{}');
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint };
  stack = await startStack({ env: { user: env, session: env, authz: env } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => collector?.close(() => resolve()));
}, 60_000);

describe('traces', () => {
  it('follow a registration from user-service over NATS into authz-service', async () => {
    const user = await register(stack, `traced-${stack.prefix}@example.com`);
    const rpc = await waitFor(
      () =>
        spans.find(
          (s) =>
            s.service === 'user-service' && s.name === 'warden.user.v1.UserService/RegisterUser',
        ),
      { timeoutMs: 15_000, what: 'the RegisterUser server span' },
    );
    expect(rpc.kind).toBe(2); // SERVER
    const consumed = await waitFor(
      () =>
        spans.find(
          (s) =>
            s.service === 'authz-service' &&
            s.name === 'warden.user.v1.registered process' &&
            s.traceId === rpc.traceId,
        ),
      { timeoutMs: 15_000, what: `authz's consumer span in trace ${rpc.traceId}` },
    );
    expect(consumed.kind).toBe(5); // CONSUMER
    expect(consumed.parentSpanId).toBe(rpc.spanId);
    expect(user.id).toBeTruthy();
  });

  it('follow a sign-in from session-service into user-service over gRPC', async () => {
    const email = `traced-signin-${stack.prefix}@example.com`;
    await register(stack, email);
    await signIn(stack, email);
    const start = await waitFor(
      () =>
        spans.find(
          (s) =>
            s.service === 'session-service' &&
            s.name === 'warden.session.v1.SessionService/StartSession',
        ),
      { timeoutMs: 15_000, what: 'the StartSession server span' },
    );
    const verify = await waitFor(
      () =>
        spans.find(
          (s) =>
            s.service === 'user-service' &&
            s.name === 'warden.user.v1.UserService/VerifyCredentials' &&
            s.traceId === start.traceId,
        ),
      { timeoutMs: 15_000, what: `VerifyCredentials in trace ${start.traceId}` },
    );
    expect(verify.parentSpanId).toBe(start.spanId);
  });
});
