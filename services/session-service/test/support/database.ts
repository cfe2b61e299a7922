import { migrate } from '@warden/db';
import { testSchema, type TestSchema } from '@warden/testing';
import { createPrismaClient, type PrismaClient } from '../../src/adapters/prisma/prisma-client.js';
import { MIGRATIONS_DIR } from '../../src/config.js';

export interface MigratedSchema extends TestSchema {
  prisma: PrismaClient;
}

/** A fresh schema of its own with session-service's migrations applied, and Prisma over it. */
export async function migratedSchema(prefix = 'session'): Promise<MigratedSchema> {
  const schema = await testSchema(prefix, 8);
  await migrate(schema.pool, { schema: schema.schema, migrationsDir: MIGRATIONS_DIR });
  const prisma = createPrismaClient(schema.pool, schema.schema);
  return {
    ...schema,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await schema.drop();
    },
  };
}

/** The outbox as (kind, session id), oldest first. */
export async function outboxEvents(
  schema: TestSchema,
): Promise<Array<{ kind: string; sessionId: string }>> {
  const { rows } = await schema.pool.query<{ subject: string; headers: Record<string, string> }>(
    'SELECT subject, headers FROM outbox ORDER BY create_time, id',
  );
  return rows.map((r) => ({
    kind: r.subject.slice('warden.session.v1.'.length),
    sessionId: r.headers['ce-subject']!,
  }));
}
