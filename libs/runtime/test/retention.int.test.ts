import { IDEMPOTENCY_DDL } from '@warden/db';
import { AUDIT_DDL, auditEntry, insertOutbox, OUTBOX_DDL } from '@warden/events';
import { testSchema, type TestSchema } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneRetained } from '../src/retention.js';

const NOW = Date.parse('2026-05-01T12:00:00.000Z');
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW - ms);

let db: TestSchema;

beforeAll(async () => {
  db = await testSchema('runtime_retention');
  await db.pool.query(OUTBOX_DDL);
  await db.pool.query(IDEMPOTENCY_DDL);
  await db.pool.query(AUDIT_DDL);
});

afterAll(() => db?.drop());

describe('pruneRetained', () => {
  it('deletes published outbox rows, processed events, idempotency records and audit entries past their retention, nothing else', async () => {
    const outbox = (id: string, published: Date | null) =>
      db.pool.query(
        `INSERT INTO outbox (id, subject, type, payload, headers, create_time, published_time)
         VALUES ($1, 's', 't', '\\x01', '{}', $2, $3)`,
        [id, ago(10 * HOUR), published],
      );
    await outbox('0190c7a6-0000-7000-8000-000000000001', ago(3 * HOUR));
    await outbox('0190c7a6-0000-7000-8000-000000000002', ago(HOUR / 2));
    await outbox('0190c7a6-0000-7000-8000-000000000003', null);
    for (const [id, at] of [
      ['old', ago(30 * HOUR)],
      ['new', ago(HOUR)],
    ] as const) {
      await db.pool.query(
        `INSERT INTO processed_events (consumer, event_id, processed_time) VALUES ('c', $1, $2)`,
        [id, at],
      );
      await db.pool.query(
        `INSERT INTO idempotency_keys (key_hash, fingerprint, create_time) VALUES ($1, 'f', $2)`,
        [id, at],
      );
    }

    const audited = (action: string, time: Date) =>
      auditEntry({ action, target: { type: 'user', id: 'u' } }, undefined, { time });
    await insertOutbox(
      db.pool,
      [],
      [audited('old', ago(401 * 24 * HOUR)), audited('new', ago(399 * 24 * HOUR))],
    );

    const pruned = await pruneRetained(
      db.pool,
      {
        outboxMs: HOUR,
        processedEventsMs: 24 * HOUR,
        idempotencyMs: 24 * HOUR,
        auditMs: 400 * 24 * HOUR,
      },
      NOW,
    );

    expect(pruned).toEqual({ outbox: 1, processedEvents: 1, idempotency: 1, audit: 1 });
    const left = async (sql: string) => (await db.pool.query(sql)).rows.map((r) => r.k);
    expect(await left('SELECT action AS k FROM audit_events')).toEqual(['new']);
    expect(await left('SELECT right(id::text, 1) AS k FROM outbox ORDER BY id')).toEqual([
      '2',
      '3',
    ]);
    expect(await left('SELECT event_id AS k FROM processed_events')).toEqual(['new']);
    expect(await left('SELECT key_hash AS k FROM idempotency_keys')).toEqual(['new']);
  });
});
