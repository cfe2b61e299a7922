import { randomUUID } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { AppError } from '@warden/errors';
import { fromServiceError } from '@warden/grpc';
import { authzv1, sessionv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, check, register, signIn } from '../support/flows.js';
import { call, fullRequest, startStack, type Stack } from '../support/stack.js';

/**
 * Review finding 3: WatchSessions and CheckPermission(s) are open to a service identity, and the
 * gateway forwards its users' tokens to them. Over the real processes, with the gateway's key
 * and a player's token, the player must not watch other users' sign-ins or probe who is admin.
 */
let stack: Stack;
let adminId: string;
let adminToken: string;
let player: { userId: string; email: string; token: string };
let victim: { userId: string; email: string };

async function newPlayer() {
  const email = `${randomUUID()}@example.com`;
  const user = await register(stack, email);
  await waitFor(async () => (await check(stack, user.id, 'game.join')).allowed, {
    timeoutMs: 15_000,
    what: 'default player role',
  });
  return { userId: user.id, email, token: (await signIn(stack, email)).token };
}

type WatchOutcome = { refused: AppError } | { event: sessionv1.SessionEvent };

/**
 * Opens WatchSessions as the gateway carrying `token`, then signs `who` in until the stream
 * answers: with its refusal, or with an event it delivered (the attack worked).
 */
async function watchWhile(userId: string, token: string, who: string): Promise<WatchOutcome> {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const stream = stack.sessions.watchSessions(
    fullRequest<sessionv1.WatchSessionsRequest>('watchSessions', { userId }),
    metadata,
  );
  let outcome: WatchOutcome | undefined;
  stream.on('data', (event: sessionv1.SessionEvent) => {
    outcome ??= { event };
    stream.cancel();
  });
  stream.on('error', (error) => {
    outcome ??= { refused: fromServiceError(error) };
  });
  // The server subscribes after authorizing; sign-ins before that are not delivered to it.
  for (let i = 0; i < 20 && !outcome; i++) await signIn(stack, who);
  return waitFor(() => outcome, { timeoutMs: 15_000, what: 'the watch stream to answer' });
}

const checkAs = (token: string, subjectId: string, permission: string) =>
  call<authzv1.CheckPermissionRequest, authzv1.CheckPermissionResponse>(
    stack.authz,
    'checkPermission',
    { subjectId, permission, resource: { type: 'x', id: 'x', ownerId: '' } },
    token,
  );

async function refusalOf(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    (response) => new Error(`expected a refusal, got ${JSON.stringify(response)}`),
    (error: unknown) => error,
  );
  if (outcome instanceof AppError) return outcome;
  throw outcome;
}

beforeAll(async () => {
  stack = await startStack();
  const bootstrapped = await bootstrapAdmin(stack);
  adminId = bootstrapped.user.id;
  adminToken = bootstrapped.token;
  player = await newPlayer();
  victim = await newPlayer();
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

describe("a player's token carried by the gateway", () => {
  it("cannot watch another user's sessions", async () => {
    const outcome = await watchWhile(victim.userId, player.token, victim.email);
    expect(outcome).toMatchObject({
      refused: {
        kind: 'PERMISSION_DENIED',
        reason: 'PERMISSION_DENIED',
        message: 'missing permission session.list',
      },
    });
  });

  it("cannot watch everyone's sessions with an empty user_id", async () => {
    const outcome = await watchWhile('', player.token, victim.email);
    expect(outcome).toMatchObject({
      refused: { kind: 'PERMISSION_DENIED', message: 'missing permission session.list' },
    });
  });

  it('still watches its own sessions', async () => {
    const outcome = await watchWhile(player.userId, player.token, player.email);
    expect(outcome).toMatchObject({
      event: {
        type: sessionv1.SessionEventType.SESSION_EVENT_TYPE_STARTED,
        session: { userId: player.userId },
      },
    });
  });

  it("cannot ask about another subject's permissions, and the refusal names no role", async () => {
    for (const subjectId of [adminId, victim.userId, 'service:user-service']) {
      const refused = await refusalOf(checkAs(player.token, subjectId, 'role.assign'));
      expect(refused).toMatchObject({
        kind: 'PERMISSION_DENIED',
        reason: 'PERMISSION_DENIED',
        message: 'missing permission permission.read',
      });
      expect(JSON.stringify(refused)).not.toMatch(/admin|role /);
    }
    const batch = await refusalOf(
      call(
        stack.authz,
        'checkPermissions',
        {
          checks: [
            { subjectId: player.userId, permission: 'game.join' },
            { subjectId: adminId, permission: 'user.delete' },
          ],
        },
        player.token,
      ),
    );
    expect(batch).toMatchObject({ kind: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED' });
  });

  it('still asks about itself, and an admin (permission.read) or the bare gateway about anyone', async () => {
    expect(await checkAs(player.token, player.userId, 'game.join')).toMatchObject({
      allowed: true,
    });
    expect(await checkAs(adminToken, player.userId, 'game.join')).toMatchObject({
      allowed: true,
    });
    expect((await check(stack, adminId, 'role.assign')).allowed).toBe(true);
  });
});

describe("an admin's token carried by the gateway", () => {
  it("watches another user's sessions (session.list)", async () => {
    const outcome = await watchWhile(victim.userId, adminToken, victim.email);
    expect(outcome).toMatchObject({ event: { session: { userId: victim.userId } } });
  });
});
