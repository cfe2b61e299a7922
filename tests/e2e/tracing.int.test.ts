import { randomBytes, randomUUID } from 'node:crypto';
import { callUnary } from '@warden/grpc';
import {
  createLogger,
  NO_TRACING,
  setTracer,
  startTracing,
  type TraceContext,
  type Tracer,
} from '@warden/logger';
import type { sessionv1, userv1 } from '@warden/proto';
import { startOtlpReceiver, waitFor, type OtlpReceiver, type ReceivedSpan } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/flows.js';
import { fullRequest, startStack, type Stack } from '../support/stack.js';

// OpenTelemetry across gRPC and NATS, over real processes: every service exports its spans through
// the SDK (OTLP/HTTP protobuf) to an in-process receiver, and so does this test as the "gateway".
// One gateway request makes one trace: gateway CLIENT -> user-service SERVER -> relay PRODUCER ->
// authz worker CONSUMER for a registration; gateway CLIENT -> session-service SERVER -> CLIENT ->
// user-service SERVER for a sign-in.

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

let receiver: OtlpReceiver;
let stack: Stack;
let gateway: Tracer;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The standard variables, read by each process's SDK: export every 100 ms.
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
  stack = await startStack({ env: { user: env, session: env, authz: env } });
  gateway = startTracing({
    serviceName: 'gateway',
    endpoint: receiver.endpoint,
    logger: createLogger({ service: 'gateway', level: 'silent' }),
  });
}, 120_000);

afterAll(async () => {
  await gateway?.shutdown();
  setTracer(NO_TRACING);
  await stack?.stop();
  await receiver?.close();
}, 60_000);

/** What a browser or edge proxy would send the gateway: sampled or not, with a tracestate. */
const edgeContext = (sampled = true): TraceContext => ({
  traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${sampled ? '01' : '00'}`,
  tracestate: 'warden=t',
});

/** A gateway request: a SERVER span of the test's own wrapping one outbound call (a CLIENT span). */
async function throughGateway<T>(
  name: string,
  edge: TraceContext,
  call: (ctx: TraceContext & { requestId: string }) => Promise<T>,
): Promise<{ root: TraceContext; result: T }> {
  const root = gateway.start(name, 'server', edge);
  try {
    return { root: root.context, result: await call({ ...root.context, requestId: randomUUID() }) };
  } finally {
    root.end();
    await gateway.flush();
  }
}

const traceIdOf = (context: TraceContext) => context.traceparent.slice(3, 35);
const spanIdOf = (context: TraceContext) => context.traceparent.slice(36, 52);

function span(what: string, match: (s: ReceivedSpan) => boolean): Promise<ReceivedSpan> {
  return waitFor(() => receiver.spans.find(match), { timeoutMs: 15_000, what });
}

describe('traces', () => {
  it('follow a registration from the gateway into user-service, over the outbox and NATS into authz-service', async () => {
    const email = `traced-${stack.prefix}@example.com`;
    const { root, result } = await throughGateway('POST /accounts', edgeContext(), (ctx) =>
      callUnary<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
        stack.users.registerUser,
        stack.users,
        fullRequest('registerUser', {
          email,
          password: PASSWORD,
          displayName: 'traced',
          requestId: randomUUID(),
        }),
        ctx,
        20_000,
      ),
    );
    const traceId = traceIdOf(root);
    const inTrace = (s: ReceivedSpan) => s.traceId === traceId;

    const gatewayCall = await span(
      'the gateway CLIENT span',
      (s) => inTrace(s) && s.service === 'gateway' && s.kind === CLIENT,
    );
    expect(gatewayCall.name).toBe('warden.user.v1.UserService/RegisterUser');
    expect(gatewayCall.parentSpanId).toBe(spanIdOf(root));
    const rpc = await span(
      'the RegisterUser server span',
      (s) =>
        inTrace(s) &&
        s.service === 'user-service' &&
        s.name === 'warden.user.v1.UserService/RegisterUser',
    );
    expect(rpc.kind).toBe(SERVER);
    expect(rpc.parentSpanId).toBe(gatewayCall.spanId);
    expect(rpc.traceState).toBe('warden=t');
    const published = await span(
      `the relay's PRODUCER span in trace ${traceId}`,
      (s) => inTrace(s) && s.service === 'user-service' && s.kind === PRODUCER,
    );
    expect(published.name).toBe('warden.user.v1.registered publish');
    expect(published.parentSpanId).toBe(rpc.spanId);
    const consumed = await span(
      `authz's consumer span in trace ${traceId}`,
      (s) =>
        inTrace(s) &&
        s.service === 'authz-service' &&
        s.name === 'warden.user.v1.registered process',
    );
    expect(consumed.kind).toBe(CONSUMER);
    // The message keeps the context the row was written in: the consumer is the RPC's child.
    expect(consumed.parentSpanId).toBe(rpc.spanId);
    expect(result.user?.id).toBeTruthy();
  });

  it('follow a sign-in from the gateway through session-service into user-service over gRPC', async () => {
    const email = `traced-signin-${stack.prefix}@example.com`;
    await callUnary(
      stack.users.registerUser,
      stack.users,
      fullRequest('registerUser', {
        email,
        password: PASSWORD,
        displayName: 'signin',
        requestId: randomUUID(),
      }),
    );
    const { root } = await throughGateway('POST /sessions', edgeContext(), (ctx) =>
      callUnary<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
        stack.sessions.startSession,
        stack.sessions,
        fullRequest('startSession', {
          email,
          password: PASSWORD,
          client: { ipAddress: '127.0.0.1', userAgent: 'e2e' },
          requestId: randomUUID(),
        }),
        ctx,
        20_000,
      ),
    );
    const inTrace = (s: ReceivedSpan) => s.traceId === traceIdOf(root);
    const start = await span(
      'the StartSession server span',
      (s) =>
        inTrace(s) &&
        s.service === 'session-service' &&
        s.name === 'warden.session.v1.SessionService/StartSession',
    );
    expect(start.kind).toBe(SERVER);
    const client = await span(
      'session-service calling VerifyCredentials',
      (s) =>
        inTrace(s) &&
        s.service === 'session-service' &&
        s.kind === CLIENT &&
        s.name === 'warden.user.v1.UserService/VerifyCredentials',
    );
    const verify = await span(
      'VerifyCredentials in user-service',
      (s) =>
        inTrace(s) &&
        s.service === 'user-service' &&
        s.name === 'warden.user.v1.UserService/VerifyCredentials',
    );
    // The call chain: StartSession -> its CLIENT span -> user-service's VerifyCredentials.
    expect(client.parentSpanId).toBe(start.spanId);
    expect(verify.parentSpanId).toBe(client.spanId);
    expect(verify.kind).toBe(SERVER);
    expect(verify.traceState).toBe('warden=t');
  });

  it('export nothing for a request the caller did not sample, and still pass its trace on', async () => {
    const unsampled = edgeContext(false);
    const email = `untraced-${stack.prefix}@example.com`;
    await throughGateway('POST /accounts', unsampled, (ctx) =>
      callUnary(
        stack.users.registerUser,
        stack.users,
        fullRequest('registerUser', {
          email,
          password: PASSWORD,
          displayName: 'untraced',
          requestId: randomUUID(),
        }),
        ctx,
        20_000,
      ),
    );
    // A sampled request after it: once its spans are in, the unsampled one's would be too.
    const { root } = await throughGateway('POST /accounts', edgeContext(), (ctx) =>
      callUnary(
        stack.users.registerUser,
        stack.users,
        fullRequest('registerUser', {
          email: `traced-after-${stack.prefix}@example.com`,
          password: PASSWORD,
          displayName: 'after',
          requestId: randomUUID(),
        }),
        ctx,
        20_000,
      ),
    );
    await span(
      'the sampled request after it',
      (s) => s.traceId === traceIdOf(root) && s.service === 'authz-service' && s.kind === CONSUMER,
    );
    expect(receiver.spans.filter((s) => s.traceId === traceIdOf(unsampled))).toEqual([]);
  });
});
