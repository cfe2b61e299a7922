import { randomUUID } from 'node:crypto';
import { AllowAllChecker, Bus, Idempotency } from '@warden/bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgIdempotencyStore } from '@warden/db';
import { AssignRoleHandler } from '../src/application/commands/assign-role.js';
import { OPERATOR_HOLDS_EVERYTHING } from '../src/application/delegation.js';
import { NO_POLICY_LISTENER } from '../src/application/ports.js';
import { systemClock } from '../src/app.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aServiceCall, aUserId } from './support/mothers.js';

let db: MigratedSchema;
let store: PgIdempotencyStore;

beforeAll(async () => {
  db = await migratedSchema();
  store = new PgIdempotencyStore(db.pool);
});

afterAll(async () => {
  await db?.drop();
});

describe('AssignRole idempotency over Postgres', () => {
  it('makes AssignRole with a request_id answer the same twice over Postgres', async () => {
    const bus = new Bus({ authorizer: new AllowAllChecker(), idempotency: new Idempotency(store) });
    const assignRole = new AssignRoleHandler(
      db.repository,
      systemClock,
      NO_POLICY_LISTENER,
      OPERATOR_HOLDS_EVERYTHING,
    );
    const input = { subjectId: aUserId(), role: 'player', requestId: randomUUID() };
    const first = await bus.run(assignRole, input, aServiceCall());
    const replay = await bus.run(assignRole, input, aServiceCall());
    expect(replay).toEqual(first);
    await expect(
      bus.run(assignRole, { ...input, role: 'guest' }, aServiceCall()),
    ).rejects.toMatchObject({
      kind: 'ALREADY_EXISTS',
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
    const events = (await db.outbox()).filter(
      (row) => row.headers['ce-subject'] === input.subjectId,
    );
    expect(events).toHaveLength(1);
  });
});
