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
import { auditv1, type authzv1, type sessionv1, type userv1 } from '@warden/proto';
import { startOtlpReceiver, waitFor, type OtlpReceiver, type ReceivedSpan } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, PASSWORD } from '../support/flows.js';
import { call, fullRequest, startStack, type Stack } from '../support/stack.js';

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
}, 180_000);

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

// The audit trail of the same requests: each service records who made the change (the calling
// service, the user behind the token, or warden itself for a consumer), with the caller's
// request_id and the trace the change was made in.
describe('the audit trail', () => {
  const { AUDIT_ACTOR_TYPE_USER: USER, AUDIT_ACTOR_TYPE_SERVICE: SERVICE } = auditv1.AuditActorType;
  const SYSTEM = auditv1.AuditActorType.AUDIT_ACTOR_TYPE_SYSTEM;
  type Ctx = TraceContext & { requestId: string; bearerToken?: string };
  const traced = (bearerToken?: string): Ctx => ({
    ...edgeContext(),
    requestId: randomUUID(),
    ...(bearerToken ? { bearerToken } : {}),
  });
  const unary = <Req, Res>(client: object, method: string, request: unknown, ctx: Ctx) =>
    callUnary<Req, Res>(
      (client as Record<string, Parameters<typeof callUnary<Req, Res>>[0]>)[method]!,
      client as never,
      fullRequest<Req>(method, request),
      ctx,
      20_000,
    );
  const trail = async (client: object, filter: Partial<auditv1.AuditEventFilter>, token: string) =>
    (
      await call<unknown, { auditEvents: auditv1.AuditEvent[] }>(
        client,
        'listAuditEvents',
        { filter: { actorId: '', targetId: '', action: '', ...filter }, pageSize: 50 },
        token,
      )
    ).auditEvents;

  it('records a registration, its default role, a sign-in, a logout and an admin grant with actor, request_id and trace', async () => {
    const admin = await bootstrapAdmin(stack);
    const email = `audited-${stack.prefix}@example.com`;

    const registration = traced();
    const registerId = randomUUID();
    const { user } = await unary<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(
      stack.users,
      'registerUser',
      { email, password: PASSWORD, displayName: 'audited', requestId: registerId },
      registration,
    );
    const userId = user!.id;
    const [registered] = await trail(stack.users, { targetId: userId }, admin.token);
    expect(registered).toMatchObject({
      service: 'user-service',
      actor: { type: SERVICE, id: 'gateway', viaService: '' },
      action: 'user.registered',
      target: { type: 'user', id: userId },
      requestId: registerId,
      traceId: traceIdOf(registration),
    });
    expect(registered!.eventId).not.toBe('');

    // authz gives the default role on hearing the event: warden itself, in the same request.
    const given = await waitFor(
      async () =>
        (await trail(stack.authz, { targetId: userId, action: 'role.assigned' }, admin.token))[0],
      { timeoutMs: 15_000, what: 'the default role in the authz audit trail' },
    );
    expect(given).toMatchObject({
      service: 'authz-service',
      actor: { type: SYSTEM, id: '', viaService: 'user-service' },
      requestId: registerId,
      traceId: traceIdOf(registration),
      details: { role: 'player' },
    });

    const signIn = traced();
    const startId = randomUUID();
    const started = await unary<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
      stack.sessions,
      'startSession',
      {
        email,
        password: PASSWORD,
        client: { ipAddress: '127.0.0.1', userAgent: 'e2e' },
        requestId: startId,
      },
      signIn,
    );
    const sessionId = started.session!.id;
    // Logging out needs the player role's session.end:own.
    await waitFor(
      async () =>
        (
          await call<authzv1.CheckPermissionRequest, authzv1.CheckPermissionResponse>(
            stack.authz,
            'checkPermission',
            {
              subjectId: userId,
              permission: 'session.end',
              resource: { type: 'session', id: sessionId, ownerId: userId },
            },
          )
        ).allowed,
      { timeoutMs: 15_000, what: 'the player role' },
    );
    const logout = traced(started.token);
    await unary(stack.sessions, 'endSession', { sessionId }, logout);
    const sessionTrail = await trail(stack.sessions, { targetId: sessionId }, admin.token);
    expect(sessionTrail.map((e) => e.action)).toEqual(['session.ended', 'session.started']);
    expect(sessionTrail[1]).toMatchObject({
      actor: { type: SERVICE, id: 'gateway' },
      requestId: startId,
      traceId: traceIdOf(signIn),
      details: { user_id: userId, assurance_level: 'AAL1' },
    });
    expect(sessionTrail[0]).toMatchObject({
      actor: { type: USER, id: userId, viaService: 'gateway' },
      reason: 'LOGOUT',
      traceId: traceIdOf(logout),
    });

    const grant = traced(admin.token);
    const assignId = randomUUID();
    await unary(
      stack.authz,
      'assignRole',
      { subjectId: userId, role: 'guest', requestId: assignId },
      grant,
    );
    const [assigned] = await trail(
      stack.authz,
      { targetId: userId, actorId: admin.user.id, action: 'role.assigned' },
      admin.token,
    );
    expect(assigned).toMatchObject({
      actor: { type: USER, id: admin.user.id, viaService: 'gateway' },
      target: { type: 'subject', id: userId },
      requestId: assignId,
      traceId: traceIdOf(grant),
      details: { role: 'guest' },
    });
  });
});
