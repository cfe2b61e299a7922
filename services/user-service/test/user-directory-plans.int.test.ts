import { testSchema, type TestSchema } from '@warden/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaUserDirectory } from '../src/adapters/prisma/prisma-user-directory.js';
import { migrateUserSchema } from './support/database.js';

// ListUsers by email prefix: the planner picks between a range of users_email_pattern_idx (every
// match, then a sort) and walking users_create_time_id_idx until a page of matches turns up, on
// its estimate of how many users the prefix matches. At the default statistics target it took the
// walk for prefixes matching 111 of 200,000 users (99 of 1,799 here), each such call reading
// most of the table; the email column's target of 1,000 (migration 20261201060000) keeps the
// estimates near the truth. The statement checked is the one PrismaUserDirectory sends.
const USERS = 200_000;

let db: TestSchema;

beforeAll(async () => {
  db = await testSchema('user_plans', 2);
  await migrateUserSchema(db.pool, db.schema);
  // Users 1..n as bench/data-growth.ts seeds them: ids in no order, emails user<g>@example.com,
  // registered one second apart; every 5,000th disabled; metadata team t0..t19, but for every
  // 50,000th user, on team "rare".
  await db.pool.query(
    `INSERT INTO users (id, email, display_name, password_hash, status, create_time, update_time,
                        metadata)
     SELECT md5('user-' || g)::uuid, 'user' || g || '@example.com', 'User ' || g, 'x',
            CASE WHEN g % 5000 = 0 THEN 'DISABLED' ELSE 'ACTIVE' END::"UserStatus",
            now() - make_interval(secs => $1::int - g), now() - make_interval(secs => $1::int - g),
            jsonb_build_object('team', CASE WHEN g % 50000 = 0 THEN 'rare' ELSE 't' || g % 20 END)
     FROM generate_series(1, $1::int) AS g`,
    [USERS],
  );
  // What autovacuum's analyze does once the rows are in.
  await db.pool.query('ANALYZE users');
}, 60_000);

afterAll(() => db?.drop());

/** The plan of each statement the directory sends (EXPLAIN in its place; no rows come back). */
function explainingDirectory(plans: string[]): PrismaUserDirectory {
  const pool = {
    query: async (config: string | pg.QueryConfig, values?: unknown[]) => {
      const text = typeof config === 'string' ? config : config.text;
      const params = typeof config === 'string' ? values : config.values;
      const { rows } = await db.pool.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (FORMAT JSON) ${text}`,
        params,
      );
      plans.push(JSON.stringify(rows[0]!['QUERY PLAN']));
      return { rows: [] };
    },
  };
  return new PrismaUserDirectory(pool as unknown as pg.Pool);
}

describe('ListUsers by email prefix at 200,000 users', () => {
  it('reads a selective prefix from the email range, never by walking every user in order', async () => {
    const plans: string[] = [];
    const directory = explainingDirectory(plans);
    // user<k>, user<k>0..9 and user<k>00..99: 111 users each, for every k from 201 to 1999.
    for (let k = 201; k <= 1999; k += 3)
      await directory.list({ emailPrefix: `user${k}` }, undefined, 50);
    expect(plans.length).toBe(600);
    const walks = plans.filter((plan) => plan.includes('users_create_time_id_idx'));
    expect(walks).toEqual([]);
    expect(plans.every((plan) => plan.includes('users_email_pattern_idx'))).toBe(true);
  });

  it('still walks in order for a prefix most users share, where a page turns up at once', async () => {
    const plans: string[] = [];
    await explainingDirectory(plans).list({ emailPrefix: 'user' }, undefined, 50);
    expect(plans[0]).toContain('users_create_time_id_idx');
  });
});

describe('ListUsers by status at 200,000 users', () => {
  it('pages through the 40 disabled users as a range of their index, the cursor included', async () => {
    const plans: string[] = [];
    const directory = explainingDirectory(plans);
    await directory.list({ emailPrefix: '', status: 'DISABLED' }, undefined, 20);
    const { rows } = await db.pool.query<{ create_time: Date; id: string }>(
      `SELECT create_time, id FROM users WHERE status = 'DISABLED' ORDER BY create_time, id
       OFFSET 19 LIMIT 1`,
    );
    await directory.list(
      { emailPrefix: '', status: 'DISABLED' },
      { createTime: rows[0]!.create_time, id: rows[0]!.id },
      20,
    );
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan).toContain('users_status_create_time_id_idx');
      expect(plan).not.toContain('users_create_time_id_idx');
    }
  });
});

describe('ListUsers by metadata at 200,000 users', () => {
  it('reads a rare pair from the GIN index, not by walking every user in order', async () => {
    const plans: string[] = [];
    await explainingDirectory(plans).list(
      { emailPrefix: '', metadata: { team: 'rare' } },
      undefined,
      50,
    );
    expect(plans[0]).toContain('users_metadata_idx');
    expect(plans[0]).not.toContain('users_create_time_id_idx');
  });
});
