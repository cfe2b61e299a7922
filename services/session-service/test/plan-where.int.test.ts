import { randomUUID } from 'node:crypto';
import { planWhere } from '@warden/authz-client';
import { authzv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prisma } from '../src/adapters/prisma/generated/client.js';
import { migratedSchema, type MigratedSchema } from './support/database.js';

// The README's example: AuthzService.PlanPermission's answer as the Prisma `where` of a list
// endpoint (sessions here), run by Prisma on Postgres for each kind of plan.

let db: MigratedSchema;
const me = randomUUID();
const someoneElse = randomUUID();
const mine = [randomUUID(), randomUUID()];
const theirs = [randomUUID(), randomUUID()];

beforeAll(async () => {
  db = await migratedSchema('plan_where');
  const now = new Date();
  const session = (id: string, userId: string): Prisma.SessionCreateManyInput => ({
    id,
    userId,
    tokenHash: randomUUID(),
    createTime: now,
    expireTime: now,
    idleExpireTime: now,
    lastSeenTime: now,
    ipAddress: '',
    userAgent: '',
  });
  await db.prisma.session.createMany({
    data: [...mine.map((id) => session(id, me)), ...theirs.map((id) => session(id, someoneElse))],
  });
});

afterAll(async () => {
  await db?.drop();
});

/** The list endpoint: active sessions, filtered by the plan, by id. */
async function listSessions(plan: authzv1.PlanPermissionResponse): Promise<string[]> {
  const filters: Prisma.SessionWhereInput = { status: 'ACTIVE' };
  const sessions = await db.prisma.session.findMany({
    where: { AND: [filters, planWhere(plan, me, { id: 'id', owner: 'userId' })] },
    orderBy: { id: 'asc' },
    select: { id: true },
  });
  return sessions.map((s) => s.id);
}

const plan = (
  kind: authzv1.PlanKind,
  ownerOnly = false,
  scopedResourceIds: string[] = [],
): authzv1.PlanPermissionResponse => ({
  kind,
  ownerOnly,
  scopedResourceIds,
  stepUpRequired: false,
  revision: 0,
});

describe('a PlanPermission answer as a Prisma where', () => {
  it('lists every row, no row, the owned rows, or the scoped ones', async () => {
    const { PLAN_KIND_ALWAYS_ALLOWED, PLAN_KIND_ALWAYS_DENIED, PLAN_KIND_CONDITIONAL } =
      authzv1.PlanKind;
    expect(await listSessions(plan(PLAN_KIND_ALWAYS_ALLOWED))).toEqual([...mine, ...theirs].sort());
    expect(await listSessions(plan(PLAN_KIND_ALWAYS_DENIED))).toEqual([]);
    expect(await listSessions(plan(PLAN_KIND_CONDITIONAL, true))).toEqual([...mine].sort());
    expect(await listSessions(plan(PLAN_KIND_CONDITIONAL, false, [theirs[0]!]))).toEqual([
      theirs[0],
    ]);
    expect(await listSessions(plan(PLAN_KIND_CONDITIONAL, true, [theirs[1]!]))).toEqual(
      [...mine, theirs[1]!].sort(),
    );
  });
});
