import { randomUUID } from 'node:crypto';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { AppError } from '@warden/errors';
import { createClient, fromServiceError } from '@warden/grpc';
import { sessionv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, signIn } from '../support/flows.js';
import { fullRequest, startStack, type Stack } from '../support/stack.js';

/**
 * Review finding 11: WatchSessions had no cap on watchers, each holding up to queue_size queued
 * events, so one caller could open streams until session-service ran out of memory. Over the
 * real stack: a caller past watch.max_streams_per_caller, and anyone past watch.max_streams, gets
 * RESOURCE_EXHAUSTED WATCH_STREAMS_EXHAUSTED; a closed stream frees its slot.
 */
const AUTHZ_KEY = 'dev-key-authz-service-000';
let stack: Stack;
let asAuthz: sessionv1.SessionServiceClient;
let email: string;

beforeAll(async () => {
  stack = await startStack({
    env: {
      session: {
        WARDEN_WATCH_ALLOWED_SERVICES: 'gateway,authz-service',
        WARDEN_WATCH_MAX_STREAMS_PER_CALLER: '3',
        WARDEN_WATCH_MAX_STREAMS: '5',
      },
    },
  });
  asAuthz = createClient(sessionv1.SessionServiceClient, {
    address: stack.addresses.session,
    serviceKey: AUTHZ_KEY,
  });
  email = `${randomUUID()}@example.com`;
  await register(stack, email);
}, 180_000);

afterAll(async () => {
  asAuthz?.close();
  await stack?.stop();
}, 60_000);

interface Watcher {
  events: sessionv1.SessionEvent[];
  refused?: AppError;
  stream: ClientReadableStream<sessionv1.SessionEvent>;
}

function open(client: sessionv1.SessionServiceClient): Watcher {
  const stream = client.watchSessions(
    fullRequest<sessionv1.WatchSessionsRequest>('watchSessions', { userId: '' }),
  );
  const watcher: Watcher = { events: [], stream };
  stream.on('data', (event: sessionv1.SessionEvent) => watcher.events.push(event));
  stream.on('error', (error) => {
    watcher.refused ??= fromServiceError(error);
  });
  return watcher;
}

/** Signs in until every watcher has seen an event: proof the server holds each stream open. */
async function expectStreaming(watchers: Watcher[]): Promise<void> {
  const seen = watchers.map((w) => w.events.length);
  for (let i = 0; i < 30 && watchers.some((w, n) => w.events.length === seen[n]); i++)
    await signIn(stack, email);
  for (const watcher of watchers) expect(watcher.refused).toBeUndefined();
  await waitFor(() => watchers.every((w, n) => w.events.length > seen[n]!), {
    timeoutMs: 15_000,
    what: 'every stream to deliver a sign-in',
  });
}

/** Signs in until the stream delivers an event or is refused, whichever comes first. */
async function outcomeOf(watcher: Watcher): Promise<'streaming' | AppError> {
  const settled = () => watcher.refused ?? (watcher.events.length > 0 ? 'streaming' : undefined);
  for (let i = 0; i < 30 && !settled(); i++) await signIn(stack, email);
  return waitFor(settled, { timeoutMs: 15_000, what: 'the stream to stream or be refused' });
}

async function refusalOf(watcher: Watcher): Promise<AppError> {
  return waitFor(() => watcher.refused, { timeoutMs: 15_000, what: 'the refusal' });
}

describe('a caller opening WatchSessions streams without end', () => {
  const gateway: Watcher[] = [];
  const authz: Watcher[] = [];

  it('is refused past its own limit, with the scope and limit in ErrorInfo', async () => {
    for (let i = 0; i < 3; i++) gateway.push(open(stack.sessions));
    await expectStreaming(gateway);
    const refused = await refusalOf(open(stack.sessions));
    expect([refused.kind, refused.reason, refused.metadata]).toEqual([
      'RESOURCE_EXHAUSTED',
      'WATCH_STREAMS_EXHAUSTED',
      { scope: 'caller', limit: '3' },
    ]);
  });

  it('leaves room for other callers up to the process limit, then refuses everyone', async () => {
    for (let i = 0; i < 2; i++) authz.push(open(asAuthz));
    await expectStreaming(authz);
    const refused = await refusalOf(open(asAuthz));
    expect([refused.kind, refused.reason, refused.metadata]).toEqual([
      'RESOURCE_EXHAUSTED',
      'WATCH_STREAMS_EXHAUSTED',
      { scope: 'process', limit: '5' },
    ]);
  });

  it('gets a slot back when one of its streams closes', async () => {
    gateway.shift()!.stream.cancel();
    // The server notices the cancellation on its own schedule: retry until it has.
    let replacement: Watcher | undefined;
    for (let attempt = 0; attempt < 50 && !replacement; attempt++) {
      const candidate = open(stack.sessions);
      const outcome = await outcomeOf(candidate);
      if (outcome === 'streaming') replacement = candidate;
      else {
        expect(outcome.reason).toBe('WATCH_STREAMS_EXHAUSTED');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(replacement?.refused).toBeUndefined();
    expect(replacement?.events.length).toBeGreaterThan(0);
    for (const watcher of [...gateway, ...authz, replacement!]) watcher.stream.cancel();
  });
});
