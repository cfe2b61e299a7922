import { authzEventsV1 } from '@warden/proto';
import { waitFor } from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthzEvent } from '../src/domain/index.js';
import { authzRepositoryContract } from './support/authz-repository-contract.js';
import { scopedAssignmentsContract } from './support/scoped-assignments-contract.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aRole, aUserId, T0 } from './support/mothers.js';
import { seed } from './support/seed.js';

let db: MigratedSchema;

beforeAll(async () => {
  db = await migratedSchema();
});

afterAll(async () => {
  await db?.drop();
});

// One schema for the file: each case truncates what it uses so runs stay independent and fast.
const fresh = async () => {
  await db.pool.query(`
    TRUNCATE role_assignments, outbox, processed_events, ended_sessions;
    DELETE FROM roles WHERE NOT built_in;`);
  return {
    repository: db.repository,
    outboxTypes: async () => (await db.outbox()).map((row) => row.subject),
  };
};
authzRepositoryContract('prisma', fresh);
scopedAssignmentsContract('prisma', fresh);

describe('prisma repository, against concurrent writers', () => {
  it('assignOnce turns a role deleted under it into ROLE_NOT_FOUND, writing nothing', async () => {
    await db.pool.query('TRUNCATE role_assignments, outbox, processed_events');
    await seed(db.repository, { roles: [aRole({ name: 'fleeting' })] });
    const deleter = await db.pool.connect();
    try {
      await deleter.query('BEGIN');
      await deleter.query("DELETE FROM roles WHERE name = 'fleeting'");
      // Our statement still sees the role, then waits on the deleter's row lock for its FK check.
      const subjectId = aUserId();
      const assigning = db.repository.assignOnce(
        { consumer: 'c1', eventId: aUserId() },
        [{ subjectId, role: 'fleeting', createTime: T0 }],
        [],
      );
      const outcome = assigning.then(
        () => 'assigned',
        (error: unknown) => error,
      );
      await waitForLockWait();
      await deleter.query('COMMIT');
      expect(await outcome).toMatchObject({ kind: 'NOT_FOUND', reason: 'ROLE_NOT_FOUND' });
      expect(await db.repository.assignmentsOf(subjectId)).toEqual([]);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM processed_events');
      expect(rows[0].n).toBe(0);
    } finally {
      deleter.release();
    }
  });
});

describe('prisma repository revisions', () => {
  it('gives concurrent writers distinct revisions in commit order: a revision read means all below it committed', async () => {
    await db.pool.query('TRUNCATE role_assignments, outbox, processed_events');
    const start = await db.repository.currentRevision();
    const writers = 12;
    let writing = true;
    // Whenever the counter says R, every revision up to R is in a committed outbox row.
    const watching = (async () => {
      const seen: number[] = [];
      for (let i = 0; i < 2_000 && (writing || seen.length === 0); i++) {
        const revision = await db.repository.currentRevision();
        const committed = new Set((await db.outbox()).map(revisionOfRow));
        for (let r = start + 1; r <= revision; r++) expect(committed.has(r)).toBe(true);
        seen.push(revision);
      }
      return seen;
    })();
    const subjects = Array.from({ length: writers }, () => aUserId());
    const events = await Promise.all(
      subjects.map(async (subjectId) => {
        const assigned: AuthzEvent[] = [
          {
            type: 'role_assigned',
            assignment: { subjectId, role: 'player', createTime: T0 },
            occurTime: T0,
          },
        ];
        await db.repository.updateSubject(subjectId, () => ({
          saveAssignments: [{ subjectId, role: 'player', createTime: T0 }],
          events: assigned,
          result: undefined,
        }));
        return assigned[0]!;
      }),
    );
    writing = false;
    const seen = await watching;
    const revisions = events.map((event) => event.revision!).sort((x, y) => x - y);
    expect(revisions).toEqual(Array.from({ length: writers }, (_, i) => start + i + 1));
    expect(await db.repository.currentRevision()).toBe(start + writers);
    // The counter only grows, as commits land.
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    // Each outbox row carries its event's revision.
    expect((await db.outbox()).map(revisionOfRow).sort((x, y) => x - y)).toEqual(revisions);
  });

  it('a writer waits on the revision row, and a rolled-back revision leaves no gap', async () => {
    await db.pool.query('TRUNCATE role_assignments, outbox, processed_events');
    const start = await db.repository.currentRevision();
    const other = await db.pool.connect();
    try {
      await other.query('BEGIN');
      await other.query('UPDATE authz_revision SET revision = revision + 1');
      const subjectId = aUserId();
      const assigned: AuthzEvent[] = [
        {
          type: 'role_assigned',
          assignment: { subjectId, role: 'player', createTime: T0 },
          occurTime: T0,
        },
      ];
      const writing = db.repository.updateSubject(subjectId, () => ({
        saveAssignments: [{ subjectId, role: 'player', createTime: T0 }],
        events: assigned,
        result: undefined,
      }));
      await waitForLockWait();
      await other.query('ROLLBACK');
      await writing;
      expect(assigned[0]!.revision).toBe(start + 1);
      expect(await db.repository.currentRevision()).toBe(start + 1);
    } finally {
      other.release();
    }
  });
});

/** The revision in an authz outbox row's payload (every authz event type has one). */
function revisionOfRow(row: { subject: string; payload: Buffer }): number {
  const type = row.subject.slice('warden.authz.v1.'.length);
  const codecs = {
    role_assigned: authzEventsV1.RoleAssigned,
    role_revoked: authzEventsV1.RoleRevoked,
    role_created: authzEventsV1.RoleCreated,
    role_updated: authzEventsV1.RoleUpdated,
    role_deleted: authzEventsV1.RoleDeleted,
  } as const;
  return codecs[type as keyof typeof codecs].decode(row.payload).revision;
}

/** Until some backend of this test's database waits on a lock (bounded). */
async function waitForLockWait(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE wait_event_type = 'Lock' AND datname = current_database()`,
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no backend ever waited on the lock');
}

describe('prisma repository, binding a grant while its session ends', () => {
  it('makes an assignment bound to a session wait for its end and see it', async () => {
    const subjectId = aUserId();
    const sessionId = aUserId();
    const ender = await db.pool.connect();
    try {
      // The session-ended write holds the session's lock, as endSession does.
      await ender.query('BEGIN');
      await ender.query(
        "SELECT pg_advisory_xact_lock(hashtextextended('warden-authz-session:' || $1, 0))",
        [sessionId],
      );
      let decided = false;
      const binding = db.repository.updateSubject(
        subjectId,
        ({ sessionEnded }) => {
          decided = true;
          return { events: [], result: sessionEnded };
        },
        { boundSession: sessionId },
      );
      // It waits on the session's lock, before reading anything.
      await waitFor(
        async () =>
          (
            await db.pool.query(
              `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                 AND ((classid::bigint << 32) | objid::bigint)
                   = hashtextextended('warden-authz-session:' || $1, 0)`,
              [sessionId],
            )
          ).rowCount! > 0,
        { timeoutMs: 10_000, intervalMs: 20, what: 'the binding to wait on the session lock' },
      );
      expect(decided).toBe(false);
      await ender.query(
        'INSERT INTO ended_sessions (session_id, end_time, record_time) VALUES ($1, now(), now())',
        [sessionId],
      );
      await ender.query('COMMIT');
      expect(await binding).toBe(true);
    } finally {
      ender.release();
    }
  });
});
