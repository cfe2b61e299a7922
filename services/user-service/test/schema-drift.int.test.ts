import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listMigrations } from '@warden/db';
import { OUTBOX_DDL } from '@warden/events';
import { assertNoSchemaDrift, findSchemaDrift, testSchema, type TestSchema } from '@warden/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateUserSchema } from './support/database.js';
import { MIGRATIONS_DIR, PRISMA_SCHEMA_PATH } from '../src/config.js';

let db: TestSchema | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

async function migrated(): Promise<TestSchema> {
  db = await testSchema('user_drift');
  await migrateUserSchema(db.pool, db.schema);
  return db;
}

describe('migrations against prisma/schema.prisma', () => {
  it('produce exactly the schema Prisma describes', async () => {
    const { pool, schema } = await migrated();
    await assertNoSchemaDrift({ pool, schema, prismaSchemaPath: PRISMA_SCHEMA_PATH });
  });

  it('carry the outbox tables of @warden/events verbatim', () => {
    const [first] = listMigrations(MIGRATIONS_DIR);
    expect(first?.sql).toContain(OUTBOX_DDL.trim());
    expect(readFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );
  });

  it('would report drift, one readable line per difference', async () => {
    const { pool, schema } = await migrated();
    await pool.query(`
      ALTER TABLE users ALTER COLUMN display_name TYPE varchar(50), ALTER COLUMN display_name DROP NOT NULL;
      ALTER TABLE users ALTER COLUMN status DROP DEFAULT;
      ALTER TABLE users ADD COLUMN nickname text;
      DROP INDEX users_create_time_id_idx;
      CREATE INDEX users_email_idx ON users (email);
      ALTER TABLE login_failures DROP COLUMN locked_until_time;
      CREATE TABLE stray (id int PRIMARY KEY);
      ALTER TYPE "UserStatus" ADD VALUE 'BANNED';
    `);
    const drift = await findSchemaDrift({ pool, schema, prismaSchemaPath: PRISMA_SCHEMA_PATH });
    expect(drift.sort()).toEqual(
      [
        'column "users"."display_name" is character varying(50), the schema says text',
        'column "users"."display_name" is nullable, the schema says NOT NULL',
        'column "users"."status" has no default, the schema says it has one',
        'column "users"."nickname" exists but the model has no such field',
        'table "users": index "users_create_time_id_idx" (create_time, id) is missing',
        'table "users": index "users_email_idx" (email) exists but the schema does not declare it',
        'column "login_failures"."locked_until_time" is missing',
        'table "stray" exists but no model maps to it',
        'enum "UserStatus" has values (ACTIVE, DISABLED, BANNED), the schema says (ACTIVE, DISABLED)',
      ].sort(),
    );
    await expect(
      assertNoSchemaDrift({ pool, schema, prismaSchemaPath: PRISMA_SCHEMA_PATH }),
    ).rejects.toThrow(/differs from .*schema\.prisma/);
  });
});
