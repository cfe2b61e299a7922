import { randomUUID } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { GrpcServer } from '@warden/grpc';
import { fromServiceError } from '@warden/grpc';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionServer } from '../src/server.js';
import { KEYS, sessionClient, watch } from './support/grpc.js';
import { silentLogger, testApp, type TestApp } from './support/test-app.js';

const PASSWORD = 'correct horse battery staple';

// Each WatchSessions stream holds a queue of up to queue_size events: their number is capped per
// calling service and per process, so one caller (or a flood) cannot exhaust the server's memory.
describe('WatchSessions stream limits over gRPC', () => {
  let app: TestApp;
  let server: GrpcServer;
  let address: string;

  beforeAll(async () => {
    app = testApp({
      allowedWatchers: ['gateway', 'authz-service'],
      watchLimits: { maxStreams: 3, maxStreamsPerCaller: 2 },
    });
    server = createSessionServer(app, {
      logger: silentLogger,
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 64 * 1024,
      serviceKeys: KEYS,
    });
    address = `127.0.0.1:${await server.listen()}`;
  });
  afterAll(() => server.shutdown(1_000));

  async function refusal(stream: ReturnType<typeof watch>) {
    const ended = (await stream.ended) as ServiceError & { code: number };
    expect(ended.code).toBe(status.RESOURCE_EXHAUSTED);
    return fromServiceError(ended);
  }

  it('refuses a caller past its own limit with RESOURCE_EXHAUSTED and ErrorInfo, then frees the slot on close', async () => {
    const first = watch(address);
    const second = watch(address);
    await waitFor(() => app.hub.watchers === 2, { what: 'two gateway watchers' });

    const third = await refusal(watch(address));
    expect([third.kind, third.reason, third.metadata]).toEqual([
      'RESOURCE_EXHAUSTED',
      'WATCH_STREAMS_EXHAUSTED',
      { scope: 'caller', limit: '2' },
    ]);
    expect(app.hub.watchers).toBe(2);

    // Another service still gets the room the process has left, up to the process limit.
    const other = watch(address, '', KEYS['authz-service']);
    await waitFor(() => app.hub.watchers === 3, { what: 'the other service to subscribe' });
    const full = await refusal(watch(address, '', KEYS['authz-service']));
    expect([full.reason, full.metadata]).toEqual([
      'WATCH_STREAMS_EXHAUSTED',
      { scope: 'process', limit: '3' },
    ]);

    first.cancel();
    await first.ended;
    await waitFor(() => app.hub.watchers === 2, { what: 'the server to release the watcher' });
    const again = watch(address);
    await waitFor(() => app.hub.watchers === 3, { what: 'the freed slot to be taken' });

    for (const stream of [second, other, again]) stream.cancel();
    await Promise.all([second.ended, other.ended, again.ended]);
    await waitFor(() => app.hub.watchers === 0, { what: 'every watcher to be released' });
  });

  it('gives each user behind the gateway a quota of their own', async () => {
    const players = await Promise.all([signUp(), signUp()]);
    const streams = [
      watch(address, players[0].userId, KEYS.gateway, players[0].token),
      watch(address, players[0].userId, KEYS.gateway, players[0].token),
    ];
    await waitFor(() => app.hub.watchers === 2, { what: "the first player's two watchers" });
    const third = await refusal(watch(address, players[0].userId, KEYS.gateway, players[0].token));
    expect([third.reason, third.metadata]).toEqual([
      'WATCH_STREAMS_EXHAUSTED',
      { scope: 'caller', limit: '2' },
    ]);
    // The other player is not held to the first one's streams.
    streams.push(watch(address, players[1].userId, KEYS.gateway, players[1].token));
    await waitFor(() => app.hub.watchers === 3, { what: "the second player's watcher" });
    for (const stream of streams) stream.cancel();
    await Promise.all(streams.map((stream) => stream.ended));
    await waitFor(() => app.hub.watchers === 0, { what: 'every watcher to be released' });
  });

  async function signUp() {
    const email = `${randomUUID()}@example.com`;
    const userId = randomUUID();
    app.credentials.addUser(email, PASSWORD, userId);
    app.permissions.grant(userId, 'session.list:own');
    const gateway = sessionClient(address);
    const { token } = await gateway.startSession({ email, password: PASSWORD, requestId: '' });
    gateway.close();
    return { userId, token };
  }
});
