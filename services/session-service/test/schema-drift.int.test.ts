import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listMigrations, migrate } from '@warden/db';
import { OUTBOX_DDL } from '@warden/events';
import { assertNoSchemaDrift, testSchema, type TestSchema } from '@warden/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../src/config.js';

const PRISMA_SCHEMA_PATH = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));

let db: TestSchema | undefined;
afterAll(() => db?.drop());

describe('session-service migrations against prisma/schema.prisma', () => {
  it('produce exactly the schema Prisma describes', async () => {
    db = await testSchema('session_drift');
    await migrate(db.pool, { schema: db.schema, migrationsDir: MIGRATIONS_DIR });
    await assertNoSchemaDrift({
      pool: db.pool,
      schema: db.schema,
      prismaSchemaPath: PRISMA_SCHEMA_PATH,
    });
  });

  it('carry the outbox tables of @warden/events verbatim', () => {
    const [first] = listMigrations(MIGRATIONS_DIR);
    expect(first?.sql).toContain(OUTBOX_DDL.trim());
    expect(readFileSync(join(MIGRATIONS_DIR, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    );
  });
});
