import { migrate } from '@warden/db';
import { testSchema, type TestSchema } from '@warden/testing';
import { PrismaAuthzRepository } from '../../src/adapters/prisma/prisma-authz-repository.js';
import { MIGRATIONS_DIR } from '../../src/config.js';

export interface MigratedSchema extends TestSchema {
  repository: PrismaAuthzRepository;
  /** Outbox rows in insertion order: subject and CloudEvents headers. */
  outbox(): Promise<Array<{ subject: string; headers: Record<string, string>; payload: Buffer }>>;
}

/** A schema of this test file's own, migrated like production, with the repository on top. */
export async function migratedSchema(poolSize = 5): Promise<MigratedSchema> {
  const schema = await testSchema('authz', poolSize);
  await migrate(schema.pool, { schema: schema.schema, migrationsDir: MIGRATIONS_DIR });
  return {
    ...schema,
    repository: new PrismaAuthzRepository(schema.pool),
    async outbox() {
      const { rows } = await schema.pool.query(
        'SELECT subject, headers, payload FROM outbox ORDER BY create_time, id',
      );
      return rows;
    },
  };
}
