import { randomBytes, randomUUID } from 'node:crypto';
import type { userv1 } from '@warden/proto';
import { TEST_DATABASE_URL, waitFor } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, register, signIn } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attack 5: `authz.bootstrap_admins` must grant admin once per entry. Before, every worker start
 * re-granted (undoing a revocation), and deleting the user freed the email for whoever registered
 * it next to become admin. Checked on the authz database itself, where a grant is one transaction.
 */
let stack: Stack;
let db: pg.Pool;
let operator: { id: string; token: string };
/** The first user of the listed email. */
let adminId: string;
const tag = randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await startStack();
  db = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
}, 180_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
}, 60_000);

const rolesOf = async (userId: string): Promise<string[]> =>
  (
    await db.query<{ role: string }>(
      `SELECT role FROM "${stack.prefix}_authz".role_assignments WHERE subject_id = $1 ORDER BY role`,
      [userId],
    )
  ).rows.map((row) => row.role);

/** The roles once the user's registration has been applied (all its roles commit together). */
const rolesAfterRegistration = (userId: string): Promise<string[]> =>
  waitFor(
    async () => {
      const roles = await rolesOf(userId);
      return roles.length > 0 && roles;
    },
    { timeoutMs: 15_000, what: `the registration of ${userId} applied` },
  );

/** Restarts authz's worker and waits until it has gone through the bootstrap list at start. */
async function restartAuthzWorker(env: Record<string, string> = {}): Promise<void> {
  // At info, so the worker's 'bootstrap admins checked' line shows.
  await stack.restartWorker('authz', { ...env, WARDEN_LOG_LEVEL: 'info' });
  const worker = stack.processes.find((p) => p.name === 'authz-service/worker.ts')!;
  await waitFor(() => worker.output().includes('bootstrap admins checked'), {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: 'the restarted worker to check the bootstrap admins',
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n${worker.output().slice(-3000)}`);
  });
}

const revokeAdmin = (userId: string) =>
  call(stack.authz, 'revokeRole', { subjectId: userId, role: 'admin' }, operator.token);

describe('bootstrap admins', () => {
  beforeAll(async () => {
    // The listed email registers and becomes admin; it makes an operator admin by hand.
    const first = await bootstrapAdmin(stack);
    expect(await rolesOf(first.user.id)).toEqual(['admin', 'player']);
    const user = await register(stack, `operator-${tag}@example.com`);
    await rolesAfterRegistration(user.id);
    await call(stack.authz, 'assignRole', { subjectId: user.id, role: 'admin' }, first.token);
    operator = { id: user.id, token: (await signIn(stack, `operator-${tag}@example.com`)).token };
    adminId = first.user.id;
  }, 60_000);

  it('records the grant by a hash of the email, never the address', async () => {
    const { rows } = await db.query(
      `SELECT entry, subject_id FROM "${stack.prefix}_authz".bootstrap_grants`,
    );
    expect(rows).toEqual([
      { entry: expect.stringMatching(/^email-sha256:[0-9a-f]{64}$/), subject_id: adminId },
    ]);
  });

  it('keeps a revocation through a worker restart', async () => {
    await revokeAdmin(adminId);
    expect(await rolesOf(adminId)).toEqual(['player']);
    await restartAuthzWorker();
    expect(await rolesOf(adminId)).toEqual(['player']);
  }, 90_000);

  it('does not make whoever registers the email after the user is deleted an admin', async () => {
    await call(stack.users, 'deleteUser', { userId: adminId }, operator.token);
    await waitFor(async () => (await rolesOf(adminId)).length === 0, {
      timeoutMs: 15_000,
      what: "the deleted user's roles removed",
    });
    const again: userv1.User = await register(stack, stack.adminEmail);
    expect(again.id).not.toBe(adminId);
    expect(await rolesAfterRegistration(again.id)).toEqual(['player']);
  }, 60_000);

  it('grants a listed user id once: at the next worker start, and never again after a revocation', async () => {
    const listed = await register(stack, `listed-${tag}@example.com`);
    expect(await rolesAfterRegistration(listed.id)).toEqual(['player']);
    // An id of no user (GetUser: NOT_FOUND) is left ungranted, and does not stop the others.
    const nobody = randomUUID();
    const env = { WARDEN_AUTHZ_BOOTSTRAP_ADMINS: `${stack.adminEmail},${listed.id},${nobody}` };
    await restartAuthzWorker(env);
    expect(await rolesOf(listed.id)).toEqual(['admin', 'player']);
    expect(await rolesOf(nobody)).toEqual([]);
    await revokeAdmin(listed.id);
    await restartAuthzWorker(env);
    expect(await rolesOf(listed.id)).toEqual(['player']);
    const { rows } = await db.query(
      `SELECT entry FROM "${stack.prefix}_authz".bootstrap_grants ORDER BY entry`,
    );
    expect(rows.map((r) => r.entry)).toEqual([
      expect.stringMatching(/^email-sha256:/),
      `user:${listed.id}`,
    ]);
  }, 120_000);
});
