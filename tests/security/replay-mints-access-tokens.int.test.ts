import { randomUUID } from 'node:crypto';
import type { sessionv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, PASSWORD, registerPlayer } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attack: mint access tokens for an ended session. The attacker signed in once with the password
 * and a request_id of their choosing; the victim then logs that session out (or everywhere). A
 * request_id replay answers the stored session, and the access token was signed afresh for it,
 * so every replay (24 h of idempotency) gave a new 5-minute JWT for the ended session, honoured by
 * gateways once the end is older than a token lifetime. Now a replay of an ended session answers
 * nothing at all: FAILED_PRECONDITION REPLAY_OUTDATED, neither the stored token nor an access token.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { session: { WARDEN_ACCESS_TOKENS_ENABLED: 'true' } } });
}, 240_000);

afterAll(() => stack?.stop(), 60_000);

const startSession = (email: string, requestId: string) =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    {
      email,
      password: PASSWORD,
      client: { ipAddress: '203.0.113.50', userAgent: 'replayer' },
      requestId,
    },
  );

describe('a StartSession replay after the session ended', () => {
  it('answers neither the stored session nor an access token for it: REPLAY_OUTDATED', async () => {
    const email = `replay-jwt-${randomUUID()}@example.com`;
    // The player's grants (ending their own session) come with the default role, asynchronously.
    await registerPlayer(stack, email);
    const requestId = randomUUID();
    const first = await startSession(email, requestId);
    expect(first.accessToken.split('.')).toHaveLength(3);

    // While the session lives, a replay gets a fresh access token for it (the idempotent answer).
    const live = await startSession(email, requestId);
    expect(live.session!.id).toBe(first.session!.id);
    expect(live.accessToken.split('.')).toHaveLength(3);

    await call(stack.sessions, 'endSession', { sessionId: first.session!.id }, first.token);
    const replayed = await failure(startSession(email, requestId));
    expect([replayed.kind, replayed.reason]).toEqual(['FAILED_PRECONDITION', 'REPLAY_OUTDATED']);
  });
});
