import { migrate } from '@warden/db';
import { testSchema, type TestSchema } from '@warden/testing';
import { PrismaAuthzRepository } from '../../src/adapters/prisma/prisma-authz-repository.js';
import { createPrismaClient, type PrismaClient } from '../../src/adapters/prisma/prisma-client.js';
import { MIGRATIONS_DIR } from '../../src/config.js';

export interface MigratedSchema extends TestSchema {
  prisma: PrismaClient;
  repository: PrismaAuthzRepository;
  /** Outbox rows in insertion order: subject and CloudEvents headers. */
  outbox(): Promise<Array<{ subject: string; headers: Record<string, string>; payload: Buffer }>>;
}

/** A schema of this test file's own, migrated like production, with Prisma on top. */
export async function migratedSchema(poolSize = 5): Promise<MigratedSchema> {
  const schema = await testSchema('authz', poolSize);
  await migrate(schema.pool, { schema: schema.schema, migrationsDir: MIGRATIONS_DIR });
  const prisma = createPrismaClient(schema.pool, schema.schema);
  return {
    ...schema,
    prisma,
    repository: new PrismaAuthzRepository(prisma, schema.pool),
    async outbox() {
      const { rows } = await schema.pool.query(
        'SELECT subject, headers, payload FROM outbox ORDER BY create_time, id',
      );
      return rows;
    },
    async drop() {
      await prisma.$disconnect();
      await schema.drop();
    },
  };
}
