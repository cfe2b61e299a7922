import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from './generated/client.js';

export { PrismaClient };

/** Prisma over the process's one pg pool, whose connections already have the service schema as search_path. */
export const createPrismaClient = (pool: pg.Pool, schema: string): PrismaClient =>
  new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
