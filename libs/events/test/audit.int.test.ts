import { withTransaction } from '@warden/db';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditEntry, AUDIT_DDL, type AuditContext, type AuditEntry } from '../src/audit.js';
import { PgAuditLog, pruneAuditEvents } from '../src/audit-log.js';
import { envelopeFor } from '../src/envelope.js';
import { insertOutbox } from '../src/outbox-schema.js';
import { createTestDatabase, type TestDatabase } from './support.js';

const ADMIN = '0190a000-0000-7000-8000-0000000000ad';
const USER = '0190a000-0000-7000-8000-000000000001';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const admin: AuditContext = {
  actor: { type: 'USER', id: ADMIN, viaService: 'gateway' },
  requestId: 'req-1',
  traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
};
const make = envelopeFor({
  source: 'user-service',
  subjectPrefix: 'warden.user.v1.',
  context: () => admin,
});
const disabled = (userId = USER) =>
  make('disabled', Uint8Array.of(1), {
    subjectId: userId,
    time: new Date(),
    audit: { action: 'user.disabled', target: { type: 'user', id: userId }, reason: 'fraud' },
  });

let db: TestDatabase;
let log: PgAuditLog;
beforeAll(async () => {
  db = await createTestDatabase(); // with the outbox tables
  await db.pool.query(AUDIT_DDL);
  await db.pool.query('CREATE TABLE things (id text PRIMARY KEY)');
  log = new PgAuditLog(db.pool);
});
afterAll(() => db?.drop());
beforeEach(() => db.pool.query('TRUNCATE outbox, audit_events, things'));

const count = async (table: string) =>
  Number((await db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

describe('insertOutbox with audit entries (Postgres)', () => {
  it('writes each event and its audit entry, as they were made', async () => {
    const env = disabled();
    await insertOutbox(db.pool, [env]);
    const [entry] = await log.list({ limit: 10 });
    expect(entry).toEqual({ ...env.audit, time: entry!.time });
    expect(entry).toMatchObject({
      actor: admin.actor,
      action: 'user.disabled',
      eventId: env.id,
      requestId: 'req-1',
      traceId: TRACE,
      reason: 'fraud',
    });
    const { rows } = await db.pool.query('SELECT headers FROM outbox');
    expect(rows[0].headers['ce-wardenactor']).toBe(`user:${ADMIN}`);
  });

  it('writes the entries of changes without an event alone', async () => {
    const entry = auditEntry(
      { action: 'user.code_issued', target: { type: 'user', id: USER } },
      admin,
    );
    await insertOutbox(db.pool, [], [entry]);
    expect(await count('outbox')).toBe(0);
    expect((await log.list({ limit: 10 }))[0]).toMatchObject({
      action: 'user.code_issued',
      eventId: '',
    });
  });

  it('leaves no entry when the change fails in its transaction', async () => {
    await db.pool.query(`INSERT INTO things VALUES ('taken')`);
    await expect(
      withTransaction(db.pool, async (client) => {
        await insertOutbox(client, [disabled()]);
        await client.query(`INSERT INTO things VALUES ('taken')`); // the change itself fails
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await count('audit_events')).toBe(0);
    expect(await count('outbox')).toBe(0);
  });
});

describe('PgAuditLog', () => {
  const T0 = Date.parse('2026-11-30T10:00:00.000Z');
  let entries: AuditEntry[];
  beforeEach(async () => {
    entries = Array.from({ length: 9 }, (_, i) =>
      auditEntry(
        {
          action: i % 3 === 0 ? 'role.assigned' : 'user.updated',
          target: { type: 'user', id: i % 2 ? USER : ADMIN },
        },
        i % 2
          ? admin
          : { actor: { type: 'SERVICE', id: 'gateway', viaService: '' }, requestId: '' },
        { time: new Date(T0 + Math.floor(i / 3) * 1000) }, // three entries per second
      ),
    );
    await insertOutbox(db.pool, [], entries);
  });

  const newestFirst = (list: AuditEntry[]) =>
    [...list].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));

  it('lists newest first, ties by id, and resumes after a (time, id) position', async () => {
    const all = await log.list({ limit: 100 });
    expect(all.map((e) => e.id)).toEqual(newestFirst(entries).map((e) => e.id));
    const after = all[3]!;
    const rest = await log.list({ limit: 100, after: { time: after.time, id: after.id } });
    expect(rest.map((e) => e.id)).toEqual(all.slice(4).map((e) => e.id));
  });

  it('combines actor, target, action and time range with AND (end excluded)', async () => {
    const found = await log.list({
      limit: 100,
      actorId: ADMIN,
      targetId: USER,
      action: 'user.updated',
      startTime: new Date(T0),
      endTime: new Date(T0 + 2000),
    });
    const expected = entries.filter(
      (e, i) => i % 2 === 1 && i % 3 !== 0 && e.time.getTime() < T0 + 2000,
    );
    expect(found.map((e) => e.id)).toEqual(newestFirst(expected).map((e) => e.id));
    expect(found.length).toBeGreaterThan(0);
  });

  it('serves each filter from its index, newest first without a sort', async () => {
    await db.pool.query('ANALYZE audit_events');
    await withTransaction(db.pool, async (client) => {
      await client.query('SET LOCAL enable_seqscan = off');
      for (const column of ['actor_id', 'target_id', 'action']) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN SELECT * FROM audit_events WHERE ${column} = 'x'
           ORDER BY time DESC, id DESC LIMIT 51`,
        );
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain(`audit_events_${column}_time_id_idx`);
        expect(plan).not.toMatch(/Sort/);
      }
    });
  });

  it('prunes entries older than the retention, and only those', async () => {
    expect(await pruneAuditEvents(db.pool, new Date(T0 + 1000))).toBe(3);
    expect(await count('audit_events')).toBe(6);
  });
});
