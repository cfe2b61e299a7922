import { randomUUID } from 'node:crypto';
import { AppError } from '@warden/errors';
import { TEST_DATABASE_URL, waitFor } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, check, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Review finding 2: role.assign, role.update and role.create were each as strong as admin. Over
 * the real processes: a "helpdesk" holding role.assign hands out only roles it fully holds, a
 * "role-editor" holding role.update cannot widen its own role, and nobody revokes the last admin.
 */
let stack: Stack;
let db: pg.Client;
let admin: { userId: string; token: string };
let helpdesk: { userId: string; token: string };
let editor: { userId: string; token: string };
let victim: { userId: string };

const rolesOf = async (subjectId: string): Promise<string[]> =>
  (
    await db.query<{ role: string }>(
      `SELECT role FROM "${stack.prefix}_authz".role_assignments WHERE subject_id = $1 ORDER BY role`,
      [subjectId],
    )
  ).rows.map((row) => row.role);

async function refusalOf(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    (response) => new Error(`expected a refusal, got ${JSON.stringify(response)}`),
    (error: unknown) => error,
  );
  if (outcome instanceof AppError) return outcome;
  throw outcome;
}

const createRole = (name: string, permissions: string[], inherits: string[] = []) =>
  call(
    stack.authz,
    'createRole',
    { role: { name, description: name, permissions, inherits }, requestId: randomUUID() },
    admin.token,
  );

const assign = (subjectId: string, role: string, token: string) =>
  call(stack.authz, 'assignRole', { subjectId, role, requestId: randomUUID() }, token);

/** A registered user with its default role applied, then given `role` by the admin, signed in. */
async function holderOf(role: string): Promise<{ userId: string; token: string }> {
  const email = `${role}-${randomUUID()}@example.com`;
  const user = await register(stack, email);
  await waitFor(async () => (await rolesOf(user.id)).includes('player'), {
    timeoutMs: 15_000,
    what: `the default role of ${email}`,
  });
  await assign(user.id, role, admin.token);
  return { userId: user.id, token: (await signIn(stack, email)).token };
}

const escalationDenied = (role: string) => ({
  kind: 'PERMISSION_DENIED',
  reason: 'ESCALATION_DENIED',
  message: `role ${role} grants more than you hold`,
});

beforeAll(async () => {
  stack = await startStack();
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  const bootstrapped = await bootstrapAdmin(stack);
  admin = { userId: bootstrapped.user.id, token: bootstrapped.token };
  await createRole('helpdesk', ['role.assign'], ['player']);
  await createRole('role-editor', ['role.update']);
  await createRole('greeter', ['game.join'], ['guest']);
  await createRole('reader', ['user.read']);
  await createRole('deputy', [], ['admin']);
  helpdesk = await holderOf('helpdesk');
  editor = await holderOf('role-editor');
  const victimEmail = `victim-${randomUUID()}@example.com`;
  victim = { userId: (await register(stack, victimEmail)).id };
  await waitFor(async () => (await rolesOf(victim.userId)).includes('player'), {
    timeoutMs: 15_000,
    what: "the victim's default role",
  });
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
}, 60_000);

describe('a helpdesk holding role.assign', () => {
  it('cannot give itself admin', async () => {
    const refused = await refusalOf(assign(helpdesk.userId, 'admin', helpdesk.token));
    expect(refused).toMatchObject(escalationDenied('admin'));
    expect(await rolesOf(helpdesk.userId)).toEqual(['helpdesk', 'player']);
    expect((await check(stack, helpdesk.userId, 'user.delete')).allowed).toBe(false);
  });

  it('cannot give anyone admin, a role inheriting admin, or a grant it holds only on itself', async () => {
    for (const role of ['admin', 'deputy', 'reader']) {
      const refused = await refusalOf(assign(victim.userId, role, helpdesk.token));
      expect(refused).toMatchObject(escalationDenied(role));
      // The refusal names the role asked for, never what anyone else holds.
      expect(refused.message).not.toContain(victim.userId);
      expect(refused.metadata).toEqual({});
    }
    expect(await rolesOf(victim.userId)).toEqual(['player']);
  });

  it('can assign a role it fully holds, inherited grants included', async () => {
    await assign(victim.userId, 'greeter', helpdesk.token);
    expect(await rolesOf(victim.userId)).toEqual(['greeter', 'player']);
  });
});

describe('a role-editor holding role.update', () => {
  const update = (permissions: string[], inherits: string[], updateMask: string[]) =>
    call(
      stack.authz,
      'updateRole',
      { role: { name: 'role-editor', description: '', permissions, inherits }, updateMask },
      editor.token,
    );

  it('cannot put * on its own role, nor make it inherit admin', async () => {
    const star = await refusalOf(update(['role.update', '*'], [], ['permissions']));
    expect(star).toMatchObject(escalationDenied('role-editor'));
    const inherit = await refusalOf(update([], ['admin'], ['inherits']));
    expect(inherit).toMatchObject(escalationDenied('role-editor'));
    const { rows } = await db.query(
      `SELECT permissions, inherits FROM "${stack.prefix}_authz".roles WHERE name = 'role-editor'`,
    );
    expect(rows).toEqual([{ permissions: ['role.update'], inherits: [] }]);
    expect((await check(stack, editor.userId, 'user.delete')).allowed).toBe(false);
  });
});

describe('the last admin', () => {
  it('cannot be revoked, even by itself', async () => {
    const refused = await refusalOf(
      call(stack.authz, 'revokeRole', { subjectId: admin.userId, role: 'admin' }, admin.token),
    );
    expect(refused).toMatchObject({ kind: 'FAILED_PRECONDITION', reason: 'LAST_ADMIN' });
    expect(await rolesOf(admin.userId)).toContain('admin');
  });

  it('survives two admins revoking each other at once: one revocation wins, one admin stays', async () => {
    const second = await holderOf('admin');
    const outcomes = await Promise.allSettled([
      call(stack.authz, 'revokeRole', { subjectId: second.userId, role: 'admin' }, admin.token),
      call(stack.authz, 'revokeRole', { subjectId: admin.userId, role: 'admin' }, second.token),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const [loser] = outcomes.filter((o) => o.status === 'rejected');
    // The slower one meets the lock's result (LAST_ADMIN), or no longer holds role.revoke.
    expect(['LAST_ADMIN', 'PERMISSION_DENIED']).toContain((loser!.reason as AppError).reason);
    const { rows } = await db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM "${stack.prefix}_authz".role_assignments
       WHERE role = 'admin' AND subject_id = ANY($1)`,
      [[admin.userId, second.userId]],
    );
    expect(rows[0]!.count).toBe(1);
  });
});
