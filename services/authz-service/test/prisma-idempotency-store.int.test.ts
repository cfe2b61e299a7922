import { randomUUID } from 'node:crypto';
import { AllowAllChecker, Bus, Idempotency } from '@warden/bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaIdempotencyStore } from '../src/adapters/prisma/prisma-idempotency-store.js';
import { AssignRoleHandler } from '../src/application/commands/assign-role.js';
import { NO_POLICY_LISTENER } from '../src/application/ports.js';
import { systemClock } from '../src/app.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aServiceCall, aUserId, T0 } from './support/mothers.js';

let db: MigratedSchema;
let store: PrismaIdempotencyStore;
const DAY = 24 * 3_600_000;
const later = (ms: number) => new Date(T0.getTime() + ms);

beforeAll(async () => {
  db = await migratedSchema();
  store = new PrismaIdempotencyStore(db.prisma);
});

afterAll(async () => {
  await db?.drop();
});

describe('PrismaIdempotencyStore', () => {
  it('claims a new key once, then shows the record to later claims', async () => {
    const keyHash = randomUUID();
    expect(await store.claim({ keyHash, fingerprint: 'f1', now: T0 }, DAY)).toEqual({
      claimed: true,
    });
    const second = await store.claim({ keyHash, fingerprint: 'f2', now: later(1) }, DAY);
    expect(second).toEqual({
      claimed: false,
      existing: { keyHash, fingerprint: 'f1', response: null, createTime: T0 },
    });
  });

  it('keeps the completed response', async () => {
    const keyHash = randomUUID();
    await store.claim({ keyHash, fingerprint: 'f', now: T0 }, DAY);
    await store.complete(keyHash, new Uint8Array([1, 2, 3]));
    const seen = await store.claim({ keyHash, fingerprint: 'f', now: later(1) }, DAY);
    expect(seen.claimed).toBe(false);
    expect(!seen.claimed && Buffer.from(seen.existing.response!)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('lets a released key, or one past the TTL, be claimed again', async () => {
    const released = randomUUID();
    await store.claim({ keyHash: released, fingerprint: 'f', now: T0 }, DAY);
    await store.release(released);
    expect(await store.claim({ keyHash: released, fingerprint: 'g', now: later(1) }, DAY)).toEqual({
      claimed: true,
    });

    const stale = randomUUID();
    await store.claim({ keyHash: stale, fingerprint: 'f', now: T0 }, DAY);
    await store.complete(stale, new Uint8Array([9]));
    expect(await store.claim({ keyHash: stale, fingerprint: 'g', now: later(DAY) }, DAY)).toEqual({
      claimed: true,
    });
    const fresh = await store.claim({ keyHash: stale, fingerprint: 'h', now: later(DAY + 1) }, DAY);
    expect(fresh).toMatchObject({ claimed: false, existing: { fingerprint: 'g', response: null } });
  });

  it('prunes records older than a day', async () => {
    const old = randomUUID();
    await store.claim({ keyHash: old, fingerprint: 'f', now: new Date(Date.now() - 2 * DAY) }, DAY);
    expect(await store.prune(new Date(Date.now() - DAY))).toBeGreaterThanOrEqual(1);
    expect(await store.claim({ keyHash: old, fingerprint: 'f', now: new Date() }, DAY)).toEqual({
      claimed: true,
    });
  });

  it('makes AssignRole with a request_id answer the same twice over Postgres', async () => {
    const bus = new Bus({ authorizer: new AllowAllChecker(), idempotency: new Idempotency(store) });
    const assignRole = new AssignRoleHandler(db.repository, systemClock, NO_POLICY_LISTENER);
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
