import { randomUUID } from 'node:crypto';
import { Bus, Idempotency, TablePermissionChecker, type UseCase } from '@warden/bus';
import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDEMPOTENCY_DDL, PgIdempotencyStore } from './idempotency-store.js';

let db: TestSchema;
let store: PgIdempotencyStore;
const DAY = 24 * 3_600_000;
const T0 = new Date('2026-11-24T10:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

beforeAll(async () => {
  db = await testSchema('idem');
  await db.pool.query(IDEMPOTENCY_DDL);
  store = new PgIdempotencyStore(db.pool);
});

afterAll(() => db?.drop());

describe('PgIdempotencyStore', () => {
  it('claims a new key once, then shows the record to later claims', async () => {
    const keyHash = randomUUID();
    expect(await store.claim({ keyHash, fingerprint: 'f1', now: T0 }, DAY)).toEqual({
      claimed: true,
    });
    expect(await store.claim({ keyHash, fingerprint: 'f2', now: later(1) }, DAY)).toEqual({
      claimed: false,
      existing: { keyHash, fingerprint: 'f1', response: null, createTime: T0 },
    });
  });

  it('keeps the completed response', async () => {
    const keyHash = randomUUID();
    await store.claim({ keyHash, fingerprint: 'f', now: T0 }, DAY);
    await store.complete(keyHash, new Uint8Array([1, 2, 3]));
    const seen = await store.claim({ keyHash, fingerprint: 'f', now: later(1) }, DAY);
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
    expect(
      await store.claim({ keyHash: stale, fingerprint: 'h', now: later(DAY + 1) }, DAY),
    ).toMatchObject({
      claimed: false,
      existing: { fingerprint: 'g', response: null },
    });
  });

  it('lets exactly one of many concurrent claims of a key win', async () => {
    const keyHash = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.claim({ keyHash, fingerprint: `f${i}`, now: T0 }, DAY),
      ),
    );
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
  });

  it('renews a pending record, and leaves a completed one as it was', async () => {
    const pending = randomUUID();
    const done = randomUUID();
    await store.claim({ keyHash: pending, fingerprint: 'f', now: T0 }, DAY);
    await store.claim({ keyHash: done, fingerprint: 'f', now: T0 }, DAY);
    await store.complete(done, Uint8Array.of(1));
    await store.renew(pending, later(5_000));
    await store.renew(done, later(5_000));
    const { rows } = await db.pool.query<{ key_hash: string; create_time: Date }>(
      'SELECT key_hash, create_time FROM idempotency_keys WHERE key_hash = ANY($1)',
      [[pending, done]],
    );
    const created = Object.fromEntries(rows.map((r) => [r.key_hash, r.create_time.getTime()]));
    expect(created).toEqual({ [pending]: later(5_000).getTime(), [done]: T0.getTime() });
  });

  it('prunes records created before a time', async () => {
    const old = randomUUID();
    await store.claim({ keyHash: old, fingerprint: 'f', now: new Date(Date.now() - 2 * DAY) }, DAY);
    expect(await store.prune(new Date(Date.now() - DAY))).toBeGreaterThanOrEqual(1);
    expect(await store.claim({ keyHash: old, fingerprint: 'f', now: new Date() }, DAY)).toEqual({
      claimed: true,
    });
  });

  it("records the owner of a response, so erasing that user deletes only that user's records", async () => {
    const owner = randomUUID();
    const mine = [randomUUID(), randomUUID()];
    const other = randomUUID();
    for (const keyHash of [...mine, other])
      await store.claim({ keyHash, fingerprint: 'f', now: T0 }, DAY);
    for (const keyHash of mine) await store.complete(keyHash, new Uint8Array([1]), owner);
    await store.complete(other, new Uint8Array([2]), randomUUID());
    expect(await store.forgetOwner(owner)).toBe(2);
    const { rows } = await db.pool.query(
      'SELECT key_hash FROM idempotency_keys WHERE key_hash = ANY($1)',
      [[...mine, other]],
    );
    expect(rows).toEqual([{ key_hash: other }]);
  });

  it('drops the owner when an expired record is taken over', async () => {
    const keyHash = randomUUID();
    const owner = randomUUID();
    await store.claim({ keyHash, fingerprint: 'f', now: T0 }, DAY);
    await store.complete(keyHash, new Uint8Array([1]), owner);
    await store.claim({ keyHash, fingerprint: 'g', now: later(DAY) }, DAY);
    const { rows } = await db.pool.query(
      'SELECT owner_id FROM idempotency_keys WHERE key_hash = $1',
      [keyHash],
    );
    expect(rows).toEqual([{ owner_id: null }]);
  });

  it('makes a use case with a request_id answer the same twice over Postgres, running once', async () => {
    let runs = 0;
    const create: UseCase<{ requestId: string }, { n: number }> = {
      name: 'Create',
      access: { kind: 'service' },
      idempotency: {
        key: (input) => input.requestId,
        fingerprint: () => 'same',
        encode: (output) => Buffer.from(JSON.stringify(output)),
        decode: (bytes) => JSON.parse(Buffer.from(bytes).toString()),
      },
      execute: async () => ({ n: ++runs }),
    };
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(store),
    });
    const ctx = { service: { name: 'gateway' }, requestId: 'r' };
    const input = { requestId: randomUUID() };
    expect(await bus.run(create, input, ctx)).toEqual({ n: 1 });
    expect(await bus.run(create, input, ctx)).toEqual({ n: 1 });
    expect(runs).toBe(1);
  });
});
