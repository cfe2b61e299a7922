import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient, type Prisma } from './generated/client.js';

export { PrismaClient };
export type TransactionClient = Prisma.TransactionClient;

/** Prisma over the process's one pg pool, whose connections already have the service schema as search_path. */
export const createPrismaClient = (pool: pg.Pool, schema: string): PrismaClient =>
  new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
