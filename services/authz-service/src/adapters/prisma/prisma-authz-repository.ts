import { outboxColumns, outboxInsertStatement, OUTBOX_UNNEST } from '@warden/events';
import type pg from 'pg';
import type {
  AssignmentFilter,
  AssignmentKey,
  AuthzRepository,
  AuthzTransaction,
  BootstrapGrant,
  EventReceipt,
  PolicySnapshot,
  TraceContext,
} from '../../application/ports.js';
import { type AuthzEvent, type Role, type RoleAssignment } from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { toEnvelope } from '../nats/authz-event-codec.js';
import { Prisma, type PrismaClient } from './generated/client.js';

type Tx = Prisma.TransactionClient;
type RoleRow = {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  builtIn: boolean;
  createTime: Date;
  updateTime: Date;
};
type AssignmentRow = {
  subjectId: string;
  roleName: string;
  expireTime: Date | null;
  createTime: Date;
};
type RawAssignmentRow = {
  subject_id: string;
  role: string;
  expire_time: Date | null;
  create_time: Date;
};

const toRole = (row: RoleRow): Role => ({ ...row });
const toAssignment = (row: AssignmentRow): RoleAssignment => ({
  subjectId: row.subjectId,
  role: row.roleName,
  ...(row.expireTime ? { expireTime: row.expireTime } : {}),
  createTime: row.createTime,
});
const unexpired = (now: Date) => ({ OR: [{ expireTime: null }, { expireTime: { gt: now } }] });
const keyWhere = (key: AssignmentKey) => ({
  subjectId_roleName: { subjectId: key.subjectId, roleName: key.role },
});
const roleData = (role: Role) => ({
  description: role.description,
  permissions: [...role.permissions],
  inherits: [...role.inherits],
  builtIn: role.builtIn,
  createTime: role.createTime,
  updateTime: role.updateTime,
});

/**
 * Every change in one statement: the receipt goes in only when no wanted role is missing, and the
 * assignments and outbox rows only when the receipt went in, so a duplicate or a missing role
 * writes nothing. A role deleted meanwhile fails the assignments' foreign key (23503).
 */
const ASSIGN_ONCE_SQL = `
WITH wanted AS (
  SELECT * FROM unnest($3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
    AS w (subject_id, role, expire_time, create_time)
), missing AS (
  SELECT w.role FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.name = w.role)
), receipt AS (
  INSERT INTO processed_events (consumer, event_id, processed_time)
  SELECT $1, $2, now() WHERE NOT EXISTS (SELECT 1 FROM missing)
  ON CONFLICT DO NOTHING
  RETURNING 1
), assigned AS (
  INSERT INTO role_assignments (subject_id, role, expire_time, create_time)
  SELECT subject_id, role, expire_time, create_time FROM wanted WHERE EXISTS (SELECT 1 FROM receipt)
  ON CONFLICT (subject_id, role)
  DO UPDATE SET expire_time = EXCLUDED.expire_time, create_time = EXCLUDED.create_time
  RETURNING 1
), announced AS (
  INSERT INTO outbox (id, subject, type, payload, headers, create_time)
  SELECT * FROM ${OUTBOX_UNNEST(7)} WHERE EXISTS (SELECT 1 FROM receipt)
  RETURNING 1
)
SELECT (SELECT count(*) FROM receipt)::int AS applied,
       (SELECT count(*) FROM assigned)::int AS assigned,
       (SELECT count(*) FROM announced)::int AS announced,
       ARRAY(SELECT role FROM missing) AS missing`;

/**
 * Roles, assignments, processed events and the outbox, each change in one Postgres transaction,
 * through Prisma. The two paths taken for every registration go to pg directly: {@link assignOnce}
 * (the default role, one statement) and {@link assignmentsOf} (each replica's re-read).
 */
export class PrismaAuthzRepository implements AuthzRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: pg.Pool,
  ) {}

  async assignOnce(
    receipt: EventReceipt,
    assignments: readonly RoleAssignment[],
    events: readonly AuthzEvent[],
    trace?: TraceContext,
  ): Promise<boolean> {
    let result: pg.QueryResult<{ applied: number; missing: string[] }>;
    try {
      result = await this.pool.query({
        name: 'warden-assign-once', // prepared once per connection
        text: ASSIGN_ONCE_SQL,
        values: [
          receipt.consumer,
          receipt.eventId,
          assignments.map((a) => a.subjectId),
          assignments.map((a) => a.role),
          assignments.map((a) => a.expireTime ?? null),
          assignments.map((a) => a.createTime),
          ...outboxColumns(events.map((event) => toEnvelope(event, trace?.traceparent))),
        ],
      });
    } catch (error) {
      const role = roleDeletedMeanwhile(error, assignments);
      throw role === undefined ? error : roleNotFound(role);
    }
    const [row] = result.rows;
    if (row!.missing.length > 0) throw roleNotFound(row!.missing[0]!);
    return row!.applied === 1;
  }

  transaction<T>(fn: (tx: AuthzTransaction) => Promise<T>, trace?: TraceContext): Promise<T> {
    return this.prisma.$transaction((tx) => fn(new PrismaTransaction(tx, trace?.traceparent)), {
      maxWait: 5_000,
      timeout: 15_000,
    });
  }

  async findRole(name: string): Promise<Role | undefined> {
    const row = await this.prisma.role.findUnique({ where: { name } });
    return row ? toRole(row) : undefined;
  }

  async bootstrapGrants(): Promise<string[]> {
    const rows = await this.prisma.bootstrapGrant.findMany({
      select: { entry: true },
      orderBy: { entry: 'asc' },
    });
    return rows.map((row) => row.entry);
  }

  async listRoles(page: { afterName?: string; limit: number }): Promise<Role[]> {
    const rows = await this.prisma.role.findMany({
      where: page.afterName === undefined ? {} : { name: { gt: page.afterName } },
      orderBy: { name: 'asc' },
      take: page.limit,
    });
    return rows.map(toRole);
  }

  async listAssignments(filter: AssignmentFilter): Promise<RoleAssignment[]> {
    const { after } = filter;
    const rows = await this.prisma.roleAssignment.findMany({
      where: {
        AND: [
          unexpired(filter.now),
          filter.subjectId === undefined ? {} : { subjectId: filter.subjectId },
          filter.role === undefined ? {} : { roleName: filter.role },
          after === undefined
            ? {}
            : {
                OR: [
                  { subjectId: { gt: after.subjectId } },
                  { subjectId: after.subjectId, roleName: { gt: after.role } },
                ],
              },
        ],
      },
      orderBy: [{ subjectId: 'asc' }, { roleName: 'asc' }],
      take: filter.limit,
    });
    return rows.map(toAssignment);
  }

  async snapshot(now: Date): Promise<PolicySnapshot> {
    const [roles, assignments] = await this.prisma.$transaction(
      [this.prisma.role.findMany(), this.prisma.roleAssignment.findMany({ where: unexpired(now) })],
      { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
    );
    return { roles: roles.map(toRole), assignments: assignments.map(toAssignment) };
  }

  async allRoles(): Promise<Role[]> {
    return (await this.prisma.role.findMany()).map(toRole);
  }

  /** Read by every replica on every assignment event, so straight from pg. */
  async assignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    const { rows } = await this.pool.query<RawAssignmentRow>({
      name: 'warden-assignments-of',
      text: `SELECT subject_id, role, expire_time, create_time FROM role_assignments
       WHERE subject_id = $1 ORDER BY role`,
      values: [subjectId],
    });
    return rows.map(fromRaw);
  }
}

class PrismaTransaction implements AuthzTransaction {
  constructor(
    private readonly tx: Tx,
    private readonly traceparent: string | undefined,
  ) {}

  async lockCatalogue(): Promise<void> {
    // Conflicts only with itself and row writers of roles: readers and FK checks pass through.
    await this.tx.$executeRaw`LOCK TABLE roles IN SHARE ROW EXCLUSIVE MODE`;
  }

  async roles(): Promise<Role[]> {
    return (await this.tx.role.findMany()).map(toRole);
  }

  async findRole(name: string): Promise<Role | undefined> {
    const row = await this.tx.role.findUnique({ where: { name } });
    return row ? toRole(row) : undefined;
  }

  async insertRole(role: Role): Promise<void> {
    await this.tx.role.create({ data: { name: role.name, ...roleData(role) } });
  }

  async updateRole(role: Role): Promise<void> {
    await this.tx.role.update({ where: { name: role.name }, data: roleData(role) });
  }

  async deleteRole(name: string): Promise<void> {
    await this.tx.role.delete({ where: { name } });
  }

  async saveAssignment(assignment: RoleAssignment): Promise<void> {
    const times = { expireTime: assignment.expireTime ?? null, createTime: assignment.createTime };
    try {
      await this.tx.roleAssignment.upsert({
        where: keyWhere(assignment),
        create: { subjectId: assignment.subjectId, roleName: assignment.role, ...times },
        update: times,
      });
    } catch (error) {
      // The role went between our check and the insert (a concurrent DeleteRole).
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003')
        throw roleNotFound(assignment.role);
      throw error;
    }
  }

  async deleteAssignment(key: AssignmentKey): Promise<boolean> {
    const { count } = await this.tx.roleAssignment.deleteMany({
      where: { subjectId: key.subjectId, roleName: key.role },
    });
    return count > 0;
  }

  async deleteAssignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    const rows = await this.tx.$queryRaw<RawAssignmentRow[]>`
      DELETE FROM role_assignments WHERE subject_id = ${subjectId}
      RETURNING subject_id, role, expire_time, create_time`;
    return rows.map(fromRaw).sort((a, b) => (a.role < b.role ? -1 : 1));
  }

  async hasActiveHolder(roles: readonly string[], now: Date): Promise<boolean> {
    const holder = await this.tx.roleAssignment.findFirst({
      where: { roleName: { in: [...roles] }, ...unexpired(now) },
      select: { subjectId: true },
    });
    return holder !== null;
  }

  async takeLapsedAssignments(now: Date, limit: number): Promise<RoleAssignment[]> {
    const rows = await this.tx.$queryRaw<RawAssignmentRow[]>`
      DELETE FROM role_assignments WHERE (subject_id, role) IN (
        SELECT subject_id, role FROM role_assignments
        WHERE expire_time <= ${now}
        ORDER BY expire_time
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING subject_id, role, expire_time, create_time`;
    // DELETE ... RETURNING keeps no order: announce them earliest first, as the contract says.
    return rows
      .map(fromRaw)
      .sort((x, y) => (x.expireTime?.getTime() ?? 0) - (y.expireTime?.getTime() ?? 0));
  }

  async markProcessed(consumer: string, eventId: string): Promise<boolean> {
    const { count } = await this.tx.processedEvent.createMany({
      data: [{ consumer, eventId, processedTime: new Date() }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async claimBootstrapGrant(grant: BootstrapGrant): Promise<boolean> {
    const { count } = await this.tx.bootstrapGrant.createMany({
      data: [grant],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async record(events: readonly AuthzEvent[]): Promise<void> {
    if (events.length === 0) return;
    const insert = outboxInsertStatement(
      events.map((event) => toEnvelope(event, this.traceparent)),
    );
    await this.tx.$executeRawUnsafe(insert.sql, ...insert.values);
  }
}

/** A foreign-key failure on role_assignments: which role went between the check and the insert. */
function roleDeletedMeanwhile(
  error: unknown,
  assignments: readonly RoleAssignment[],
): string | undefined {
  const { code, detail = '' } = error as { code?: string; detail?: string };
  if (code !== '23503') return undefined;
  return assignments.find((a) => detail.includes(`=(${a.role})`))?.role ?? assignments[0]?.role;
}

const fromRaw = (row: RawAssignmentRow): RoleAssignment =>
  toAssignment({
    subjectId: row.subject_id,
    roleName: row.role,
    expireTime: row.expire_time,
    createTime: row.create_time,
  });
