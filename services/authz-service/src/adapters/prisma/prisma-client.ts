import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from './generated/client.js';

export type { PrismaClient } from './generated/client.js';

/** Prisma over the process's one pg pool, in the service's own schema. */
export function createPrismaClient(pool: pg.Pool, schema: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
}
