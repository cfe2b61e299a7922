import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Review finding 10: page tokens are base64url JSON a caller can forge. A time of 1e300 or 9e15
 * became an Invalid Date and a NUL in a key a Postgres error: INTERNAL plus an error log, from any
 * player through ListActiveSessions. Every forged token must be INVALID_ARGUMENT INVALID_PAGE_TOKEN
 * with a page_token field violation, and no server may log an unexpected error.
 */
let stack: Stack;
let admin: { token: string };
let player: { userId: string; token: string; sessionId: string };

const forge = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');
const SOME_ID = randomUUID();

beforeAll(async () => {
  stack = await startStack();
  admin = await bootstrapAdmin(stack);
  const email = `${randomUUID()}@example.com`;
  const user = await register(stack, email);
  const { token, session } = await signIn(stack, email);
  player = { userId: user.id, token, sessionId: session.id };
}, 180_000);

afterAll(() => stack?.stop(), 60_000);

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('a forged page token was accepted');
}

function expectPageTokenRefusal(error: AppError, what: string): void {
  expect([error.kind, error.reason], what).toEqual(['INVALID_ARGUMENT', 'INVALID_PAGE_TOKEN']);
  expect(
    error.violations.map((v) => v.field),
    what,
  ).toEqual(['page_token']);
}

/** The servers' logs must show no unexpected error (what INTERNAL used to leave behind). */
function expectNoUnexpectedErrors(): void {
  for (const process of stack.processes.filter((p) => p.name.endsWith('/main.ts')))
    expect(process.output(), process.name).not.toMatch(/unexpected error|rpc failed|Invalid Date/);
}

describe('forged page tokens are refused as bad input, never INTERNAL', () => {
  it('ListActiveSessions, by a player listing their own sessions', async () => {
    // Well-formed tokens of this listing (bound to the player) whose position is forged.
    const forged = [
      [1e300, player.sessionId],
      [9e15, player.sessionId],
      [-9e15, player.sessionId],
      [1.5, player.sessionId],
      ['2026', player.sessionId],
      [1, 'not-a-uuid'],
      [1, `${player.sessionId}\u0000`],
      [1, 'x'.repeat(60)],
    ].map((p) => forge({ f: player.userId, p }));
    for (const pageToken of [...forged, '%%%', 'A'.repeat(20_000)]) {
      const error = await refusal(
        call(
          stack.sessions,
          'listActiveSessions',
          { userId: player.userId, pageSize: 5, pageToken },
          player.token,
        ),
      );
      expectPageTokenRefusal(error, pageToken.slice(0, 80));
    }
    // The listing itself still works for the player.
    const page = await call<unknown, { sessions: { id: string }[] }>(
      stack.sessions,
      'listActiveSessions',
      { userId: player.userId, pageSize: 5, pageToken: '' },
      player.token,
    );
    expect(page.sessions.map((s) => s.id)).toContain(player.sessionId);
  });

  it('ListUsers, by an admin', async () => {
    // Tokens of the unfiltered listing (filters ["", ""]) whose position or filters are forged.
    const unfiltered = JSON.stringify(['', '']);
    const forged = [
      { f: unfiltered, p: [9e15, SOME_ID] },
      { f: unfiltered, p: [1e300, SOME_ID] },
      { f: unfiltered, p: [-1, SOME_ID] },
      { f: unfiltered, p: [1, 'not-a-uuid'] },
      { f: 7, p: [1, SOME_ID] },
      { t: 1 },
    ].map(forge);
    for (const pageToken of [...forged, 'A'.repeat(20_000)]) {
      const error = await refusal(
        call(stack.users, 'listUsers', { pageSize: 5, pageToken }, admin.token),
      );
      expectPageTokenRefusal(error, pageToken.slice(0, 80));
    }
  });

  it('ListRoles and ListRoleAssignments, by an admin', async () => {
    for (const p of [['admin\u0000'], [''], ['a'.repeat(300)], [1e300], ['\ud800']]) {
      const error = await refusal(
        call(
          stack.authz,
          'listRoles',
          { pageSize: 5, pageToken: forge({ f: 'roles', p }) },
          admin.token,
        ),
      );
      expectPageTokenRefusal(error, JSON.stringify(p));
    }
    for (const p of [
      [SOME_ID, 'admin\u0000'],
      [`${SOME_ID}\u0000`, 'admin'],
      [9e15, 'admin'],
    ]) {
      const error = await refusal(
        call(
          stack.authz,
          'listRoleAssignments',
          { pageSize: 5, pageToken: forge({ f: 'assignments::', p }) },
          admin.token,
        ),
      );
      expectPageTokenRefusal(error, JSON.stringify(p));
    }
  });

  it('left no unexpected error in any server log', () => {
    expectNoUnexpectedErrors();
  });
});
