import { randomUUID } from 'node:crypto';
import type { AppError } from '@warden/errors';
import { callUnary, createClient } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAssignment } from '../src/domain/index.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aUserId, T0 } from './support/mothers.js';
import { seed } from './support/seed.js';
import { SERVICE_KEYS, startAuthzServer } from './support/server.js';

let db: MigratedSchema;
let started: Awaited<ReturnType<typeof startAuthzServer>>;
let client: authzv1.AuthzServiceClient;
const adminId = aUserId();
const asAdmin = { bearerToken: 'wst_admin', requestId: randomUUID() };

/** Everything a failed command could have touched, to compare before and after. */
async function state() {
  const query = async (sql: string) => (await db.pool.query(sql)).rows;
  return {
    roles: await query(
      'SELECT name, description, permissions, inherits, built_in, update_time FROM roles ORDER BY name',
    ),
    assignments: await query(
      'SELECT subject_id, role, expire_time FROM role_assignments ORDER BY subject_id, role',
    ),
    outbox: await query('SELECT count(*)::int AS n FROM outbox'),
  };
}

beforeAll(async () => {
  db = await migratedSchema();
  await seed(db.repository, {
    roles: [
      {
        name: 'moderator',
        description: '',
        permissions: ['chat.mute'],
        inherits: ['player'],
        builtIn: false,
        createTime: T0,
        updateTime: T0,
      },
    ],
    assignments: [newAssignment({ subjectId: adminId, role: 'admin' }, T0)],
  });
  started = await startAuthzServer({ repository: db.repository });
  started.tokens.set(asAdmin.bearerToken, { userId: adminId, sessionId: randomUUID() });
  client = createClient(authzv1.AuthzServiceClient, {
    address: started.address,
    serviceKey: SERVICE_KEYS.gateway,
  });
});

afterAll(async () => {
  client?.close();
  await started?.close();
  await db?.drop();
});

async function expectRefusedWithoutTrace(
  attempt: () => Promise<unknown>,
  expected: Partial<AppError>,
) {
  const before = await state();
  const error = await attempt().then(
    () => undefined,
    (e: AppError) => e,
  );
  expect(error).toMatchObject(expected);
  expect(await state()).toEqual(before);
}

describe('refused changes leave Postgres as it was (no state, no outbox row)', () => {
  it('deleting a built-in role', async () => {
    await expectRefusedWithoutTrace(
      () => callUnary(client.deleteRole, client, { name: 'player' }, asAdmin),
      {
        kind: 'FAILED_PRECONDITION',
        reason: 'BUILT_IN_ROLE',
        message: expect.stringContaining('built-in roles cannot be deleted'),
      },
    );
  });

  it('an inheritance cycle', async () => {
    const update = {
      role: {
        name: 'player',
        description: '',
        permissions: [],
        inherits: ['guest', 'moderator'],
        builtIn: false,
      },
      updateMask: ['inherits'],
    };
    await expectRefusedWithoutTrace(() => callUnary(client.updateRole, client, update, asAdmin), {
      kind: 'FAILED_PRECONDITION',
      reason: 'ROLE_CYCLE',
      message: expect.stringContaining('player -> moderator -> player'),
    });
  });

  it('assigning an unknown role', async () => {
    await expectRefusedWithoutTrace(
      () =>
        callUnary(
          client.assignRole,
          client,
          { subjectId: aUserId(), role: 'ghost', requestId: randomUUID() },
          asAdmin,
        ),
      { kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND', message: 'role ghost does not exist' },
    );
  });

  it('creating a role that inherits an unknown one', async () => {
    const role = {
      name: 'orphan',
      description: '',
      permissions: [],
      inherits: ['ghost'],
      builtIn: false,
    };
    await expectRefusedWithoutTrace(
      () => callUnary(client.createRole, client, { role, requestId: '' }, asAdmin),
      {
        kind: 'NOT_FOUND',
        reason: 'ROLE_NOT_FOUND',
      },
    );
  });

  it('while a good change does write state and one outbox row together', async () => {
    const before = await state();
    await callUnary(
      client.assignRole,
      client,
      { subjectId: aUserId(), role: 'moderator', requestId: '' },
      asAdmin,
    );
    const after = await state();
    expect(after.assignments).toHaveLength(before.assignments.length + 1);
    expect(after.outbox[0].n).toBe(before.outbox[0].n + 1);
  });
});
