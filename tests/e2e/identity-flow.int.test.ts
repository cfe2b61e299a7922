import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import { type authzv1, sessionv1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bootstrapAdmin,
  check as checkAs,
  register as registerUser,
  signIn as signInAs,
} from '../support/flows.js';
import { measureRegistrationToRole } from '../support/registration-latency.js';
import { call, startStack, type Stack } from '../support/stack.js';

// The whole platform as a user meets it: real processes, real Postgres and NATS, no fakes.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 120_000);

afterAll(() => stack?.stop(), 60_000);

const register = (email: string) => registerUser(stack, email);
const signIn = (email: string) => signInAs(stack, email);
const check = (subjectId: string, permission: string, resource?: authzv1.Resource) =>
  checkAs(stack, subjectId, permission, resource);

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to fail');
}

describe('register -> default role -> session -> permissions -> expiry -> disable', () => {
  it('gives every new user the player role without anyone calling authz (delay measured at 50 registrations/s)', async () => {
    // Warm the path once so the measurement sees steady state, not process start-up.
    const warm = await register(`warm-${stack.prefix}@example.com`);
    await waitFor(async () => (await check(warm.id, 'game.join')).allowed, {
      timeoutMs: 15_000,
      what: 'warm-up role',
    });

    const report = await measureRegistrationToRole(stack, 50, 50);
    console.error(
      `registered -> player role announced to authz replicas: n=${report.count} p50=${report.p50.toFixed(1)} ms p99=${report.p99.toFixed(1)} ms max=${report.max.toFixed(1)} ms`,
    );
    expect(report.count).toBe(50);
  });

  it('makes a user who registered before being listed in bootstrap_admins an admin when the worker starts', async () => {
    const late = await register(`late-admin-${stack.prefix}@example.com`);
    await waitFor(async () => (await check(late.id, 'game.join')).allowed, {
      timeoutMs: 15_000,
      what: 'player role',
    });
    expect(
      (await check(late.id, 'role.assign', { type: 'role', id: 'admin', ownerId: '' })).allowed,
    ).toBe(false);
    await stack.restartWorker('authz', {
      WARDEN_AUTHZ_BOOTSTRAP_ADMINS: `${stack.adminEmail},LATE-ADMIN-${stack.prefix}@example.com`,
    });
    await waitFor(
      async () =>
        (await check(late.id, 'role.assign', { type: 'role', id: 'admin', ownerId: '' })).allowed,
      {
        timeoutMs: 60_000,
        what: 'admin role for an existing bootstrap admin',
      },
    );
  });

  it('lets a player join a game, lapses a time-limited role, and ends every session when the user is disabled', async () => {
    const adminSession = await bootstrapAdmin(stack);

    const email = `flow-${stack.prefix}@example.com`;
    const user = await register(email);
    await waitFor(async () => (await check(user.id, 'game.join')).allowed, {
      timeoutMs: 15_000,
      what: 'player role',
    });
    const first = await signIn(email);
    const second = await signIn(email);
    const validated = await call<
      sessionv1.ValidateSessionRequest,
      sessionv1.ValidateSessionResponse
    >(stack.sessions, 'validateSession', {
      token: first.token,
    });
    expect(validated.session?.userId).toBe(user.id);
    expect((await check(user.id, 'game.join')).reason).toMatch(/player/);

    // Refresh rotates: the old token stops working at once.
    const refreshed = await call<sessionv1.RefreshSessionRequest, sessionv1.RefreshSessionResponse>(
      stack.sessions,
      'refreshSession',
      {
        token: second.token,
      },
    );
    expect(
      (await failure(call(stack.sessions, 'validateSession', { token: second.token }))).kind,
    ).toBe('UNAUTHENTICATED');

    // An admin grants a role that lapses by itself.
    expect(
      (await check(user.id, 'role.read', { type: 'role', id: 'guest', ownerId: '' })).allowed,
    ).toBe(false);
    await call(
      stack.authz,
      'createRole',
      {
        role: {
          name: `auditor_${stack.prefix}`,
          description: 'reads roles',
          permissions: ['role.read'],
          inherits: [],
        },
      },
      adminSession.token,
    ).catch(async (error: AppError) => {
      if (error.kind !== 'ALREADY_EXISTS') throw error;
    });
    await call(
      stack.authz,
      'assignRole',
      {
        subjectId: user.id,
        role: `auditor_${stack.prefix}`,
        expireTime: new Date(Date.now() + 1500),
        requestId: randomUUID(),
      },
      adminSession.token,
    );
    await waitFor(
      async () =>
        (await check(user.id, 'role.read', { type: 'role', id: 'guest', ownerId: '' })).allowed,
      { what: 'auditor role' },
    );
    await waitFor(
      async () =>
        !(await check(user.id, 'role.read', { type: 'role', id: 'guest', ownerId: '' })).allowed,
      {
        timeoutMs: 10_000,
        what: 'auditor role to lapse',
      },
    );

    // Disabling the user ends its sessions; WatchSessions sees them end.
    const ended: string[] = [];
    // The client kit's interceptor sends the gateway's service key on streams too.
    const watch = stack.sessions.watchSessions({ userId: user.id });
    watch.on('data', (event: sessionv1.SessionEvent) => {
      if (event.type === sessionv1.SessionEventType.SESSION_EVENT_TYPE_ENDED)
        ended.push(event.session!.id);
    });
    watch.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await call(stack.users, 'disableUser', { userId: user.id, reason: 'e2e' }, adminSession.token);
    await waitFor(() => ended.length >= 2, { timeoutMs: 10_000, what: 'session ended events' });
    watch.cancel();
    expect(ended).toEqual(expect.arrayContaining([first.session.id, refreshed.session!.id]));
    for (const token of [first.token, refreshed.token]) {
      expect((await failure(call(stack.sessions, 'validateSession', { token }))).kind).toBe(
        'UNAUTHENTICATED',
      );
    }
    const refused = await failure(signIn(email));
    expect(refused.reason).toBe('ACCOUNT_DISABLED');
  });
});
