import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLDERS_OF_SQL } from '../src/adapters/prisma/authz-sql.js';
import { createAuthzApp } from '../src/app.js';
import type { LookupSubjects } from '../src/application/queries/lookup-subjects.js';
import { newAssignment } from '../src/domain/index.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';
import { aRole, aServiceCall, aUserId, FakeClock, silentLogger } from './support/mothers.js';
import { appFor, lookupAgreesWithCheck, scenarioArb } from './support/lookup-scenarios.js';
import { seed } from './support/seed.js';

// LookupSubjects on Postgres: the index read of HOLDERS_OF_SQL (slices, keyset pages, expiry,
// scopes and owners) through the use case, and its plan: bounded index range scans, never a scan
// of every holder.

let db: MigratedSchema;
const HOUR = 3_600_000;

beforeAll(async () => {
  db = await migratedSchema(3);
});

afterAll(async () => {
  await db?.drop();
});

async function anApp() {
  await db.pool.query(`TRUNCATE role_assignments, outbox; DELETE FROM roles WHERE NOT built_in`);
  const clock = new FakeClock();
  await seed(db.repository, {
    roles: [
      aRole({ name: 'moderator', permissions: ['guild.moderate'], inherits: ['player'] }),
      aRole({ name: 'owner', permissions: ['guild.*:own'] }),
    ],
  });
  const app = createAuthzApp({ repository: db.repository, clock, logger: silentLogger });
  await app.sync.loadCatalogue();
  const lookup = (request: Partial<LookupSubjects> & { permission: string }) =>
    app.bus.run(
      app.useCases.lookupSubjects,
      { pageSize: 0, pageToken: '', ...request },
      aServiceCall(),
    );
  const lookupAll = async (request: Partial<LookupSubjects> & { permission: string }) => {
    const all: string[] = [];
    let pageToken = '';
    for (let pages = 0; pages < 1_000; pages++) {
      const page = await lookup({ ...request, pageToken });
      all.push(...page.subjectIds);
      if (page.nextPageToken === '') return all;
      pageToken = page.nextPageToken;
    }
    throw new Error('more than 1000 pages');
  };
  return { app, clock, lookup, lookupAll };
}

describe('LookupSubjects on Postgres', () => {
  it('pages every holder once, in order, merging roles and skipping lapsed grants', async () => {
    const { clock, lookup, lookupAll } = await anApp();
    const now = clock.now();
    const players = Array.from({ length: 230 }, () => aUserId());
    const moderators = players.slice(0, 40);
    const brief = aUserId();
    await seed(db.repository, {
      assignments: [
        ...players.map((subjectId) => newAssignment({ subjectId, role: 'player' }, now)),
        // Holding two granting roles: still listed once.
        ...moderators.map((subjectId) => newAssignment({ subjectId, role: 'moderator' }, now)),
        newAssignment(
          { subjectId: brief, role: 'player', expireTime: new Date(now.getTime() + HOUR) },
          now,
        ),
      ],
    });
    const everyone = [...players, brief].sort();
    const first = await lookup({ permission: 'game.join' });
    expect(first.subjectIds).toEqual(everyone.slice(0, 100));
    expect(await lookupAll({ permission: 'game.join', pageSize: 7 })).toEqual(everyone);
    expect(await lookupAll({ permission: 'guild.moderate' })).toEqual([...moderators].sort());

    clock.advance(HOUR);
    expect(await lookupAll({ permission: 'game.join', pageSize: 100 })).toEqual(players.sort());
  });

  it('counts scoped grants only on their resource and :own grants only for its owner', async () => {
    const { clock, lookupAll } = await anApp();
    const now = clock.now();
    const [mod42, owner42, mod7, admin] = [aUserId(), aUserId(), aUserId(), aUserId()];
    const guild42 = { type: 'guild', id: '42' };
    await seed(db.repository, {
      assignments: [
        newAssignment({ subjectId: mod42, role: 'moderator', scope: guild42 }, now),
        newAssignment({ subjectId: owner42, role: 'owner', scope: guild42 }, now),
        newAssignment({ subjectId: owner42, role: 'player' }, now),
        newAssignment(
          { subjectId: mod7, role: 'moderator', scope: { type: 'guild', id: '7' } },
          now,
        ),
        newAssignment({ subjectId: admin, role: 'admin' }, now),
      ],
    });
    const on42 = { type: 'guild', id: '42', ownerId: owner42 };
    expect(await lookupAll({ permission: 'guild.moderate', resource: on42 })).toEqual(
      [admin, mod42, owner42].sort(),
    );
    expect(
      await lookupAll({ permission: 'guild.moderate', resource: { ...on42, ownerId: mod7 } }),
    ).toEqual([admin, mod42].sort());
    expect(await lookupAll({ permission: 'guild.moderate' })).toEqual([admin]);
    // Text no scope or subject can hold (a NUL Postgres would refuse) is no error: nobody there.
    const unstorable = { type: 'guild', id: '4\u00002', ownerId: 'x\u0000' };
    expect(await lookupAll({ permission: 'guild.moderate', resource: unstorable })).toEqual([
      admin,
    ]);
    // An unscoped :own grant (player's session.end:own): the owner only.
    const session = { type: 'session', id: 's1', ownerId: owner42 };
    expect(await lookupAll({ permission: 'session.end', resource: session })).toEqual(
      [admin, owner42].sort(),
    );
  });

  it('answers exactly whom CheckPermission allows over random policies (property, 25 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        await db.pool.query(
          `TRUNCATE role_assignments, outbox; DELETE FROM roles WHERE NOT built_in`,
        );
        await lookupAgreesWithCheck(await appFor(db.repository, scenario), scenario);
      }),
      { numRuns: 25 },
    );
  }, 60_000);

  it('reads a page with bounded index range scans, not a scan of the holders', async () => {
    await anApp();
    // 20k holders of player, 2k of moderator, 500 on guild 42; then a page of 100 after a cursor.
    await db.pool.query(`
      INSERT INTO role_assignments (subject_id, role, create_time, scope_type, scope_id)
      SELECT md5('p' || i), 'player', now(), '', '' FROM generate_series(1, 20000) AS i
      UNION ALL
      SELECT md5('m' || i), 'moderator', now(), '', '' FROM generate_series(1, 2000) AS i
      UNION ALL
      SELECT md5('g' || i), 'moderator', now(), 'guild', '42' FROM generate_series(1, 500) AS i;
      ANALYZE role_assignments`);
    const values = [
      ['player', 'moderator', 'admin', 'player', 'moderator', 'admin'],
      ['', '', '', 'guild', 'guild', 'guild'],
      ['', '', '', '42', '42', '42'],
      ['owner', 'owner'],
      ['', 'guild'],
      ['', '42'],
      ['someone', 'someone'],
      '8',
      new Date(),
      101,
    ];
    // Both plans a prepared statement may get: its own for these values, and the generic one
    // Postgres may switch to after five executions (the repository prepares it per connection).
    const client = await db.pool.connect();
    try {
      await client.query(`PREPARE holders AS ${HOLDERS_OF_SQL}`);
      // EXECUTE takes no bind parameters: the same values, written as literals.
      const literal = (value: (typeof values)[number]): string =>
        Array.isArray(value)
          ? `ARRAY[${value.map((v) => client.escapeLiteral(v)).join(', ')}]::text[]`
          : value instanceof Date
            ? `${client.escapeLiteral(value.toISOString())}::timestamptz`
            : typeof value === 'number'
              ? String(value)
              : client.escapeLiteral(value);
      const args = values.map(literal).join(', ');
      for (const mode of ['force_custom_plan', 'force_generic_plan']) {
        await client.query(`SET plan_cache_mode = ${mode}`);
        const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE holders(${args})`,
        );
        const nodes = flatten(rows[0]!['QUERY PLAN'][0]!.Plan);
        const onAssignments = nodes.filter((node) => node['Relation Name'] === 'role_assignments');
        expect(onAssignments.length, mode).toBeGreaterThan(0);
        for (const node of onAssignments) {
          expect(node['Node Type'], mode).toMatch(/^Index (Only )?Scan$/);
          // Per slice: at most the page (plus one) rows, whatever the number of holders.
          expect(node['Actual Rows'], mode).toBeLessThanOrEqual(101);
        }
      }
    } finally {
      await client.query('DEALLOCATE holders; RESET plan_cache_mode');
      client.release();
    }
    const { rows: page } = await db.pool.query<{ subject_id: string }>(HOLDERS_OF_SQL, values);
    expect(page).toHaveLength(101);
    expect(page.every((row) => row.subject_id > '8')).toBe(true);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];
