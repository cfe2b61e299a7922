import { isForeignKeyViolation, withTransaction, withTransactionFrom } from '@warden/db';
import { insertOutbox, outboxColumns, pgInbox } from '@warden/events';
import type pg from 'pg';
import type {
  AssignmentFilter,
  AssignmentKey,
  AuthzChange,
  AuthzRepository,
  BootstrapGrant,
  CatalogueState,
  EventReceipt,
  PolicySnapshot,
  SubjectState,
  WriteOptions,
} from '../../application/ports.js';
import type { AuthzEvent, Role, RoleAssignment } from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { toEnvelope } from '../../mapping.js';
import {
  ALL_ROLES_SQL,
  ASSIGN_ONCE_SQL,
  ASSIGNMENTS_OF_SQL,
  CLAIM_BOOTSTRAP_GRANT_SQL,
  DELETE_ASSIGNMENTS_SQL,
  DELETE_ROLES_SQL,
  HAS_ACTIVE_HOLDER_SQL,
  LOCK_CATALOGUE_SQL,
  SAVE_ASSIGNMENTS_SQL,
  SAVE_ROLE_SQL,
  SUBJECT_FOR_UPDATE_SQL,
  TAKE_LAPSED_SQL,
} from './authz-sql.js';
import { Prisma, type PrismaClient } from './generated/client.js';

type RoleRow = {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  builtIn: boolean;
  createTime: Date;
  updateTime: Date;
};
type RawRoleRow = {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  built_in: boolean;
  create_time: Date;
  update_time: Date;
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

/**
 * Roles, assignments, processed events and the outbox. Changes go to pg, each in one transaction
 * that writes the state, the outbox rows and the inbox or bootstrap record together; the two paths
 * taken for every registration are prepared statements: {@link assignOnce} (the default role, one
 * statement) and {@link assignmentsOf} (each replica's re-read). Listings read through Prisma.
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
    options: WriteOptions = {},
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
          ...outboxColumns(events.map((event) => toEnvelope(event, options.traceparent))),
        ],
      });
    } catch (error) {
      throw roleDeletedMeanwhile(error, assignments);
    }
    const [row] = result.rows;
    if (row!.missing.length > 0) throw roleNotFound(row!.missing[0]!);
    return row!.applied === 1;
  }

  updateCatalogue<T>(
    decide: (catalogue: CatalogueState) => Promise<AuthzChange<T>>,
    options: WriteOptions = {},
  ): Promise<T> {
    return withTransactionFrom<RawRoleRow, T>(
      this.pool,
      LOCK_CATALOGUE_SQL,
      async (client, roles) => {
        const change = await decide({
          roles: roles.map(fromRawRole),
          hasActiveHolder: async (names, now, except) => {
            const values = [names, now, except?.subjectId ?? null, except?.role ?? null];
            const { rows } = await client.query<{ held: boolean }>(HAS_ACTIVE_HOLDER_SQL, values);
            return rows[0]!.held;
          },
          assignmentsOf: async (subjectId) =>
            (await client.query<RawAssignmentRow>(ASSIGNMENTS_OF_SQL, [subjectId])).rows.map(
              fromRaw,
            ),
        });
        return write(client, change, options.traceparent);
      },
    );
  }

  updateSubject<T>(
    subjectId: string,
    decide: (subject: SubjectState) => AuthzChange<T>,
    options: WriteOptions & { inbox?: EventReceipt; claim?: BootstrapGrant } = {},
  ): Promise<T | undefined> {
    return withTransaction(this.pool, async (client) => {
      const { inbox, claim } = options;
      if (inbox && !(await pgInbox(this.pool).markProcessed(client, inbox.consumer, inbox.eventId)))
        return undefined;
      if (claim && !(await claimBootstrapGrant(client, claim))) return undefined;
      const held = await client.query<RawAssignmentRow>(SUBJECT_FOR_UPDATE_SQL, [subjectId]);
      const roles = await client.query<RawRoleRow>(ALL_ROLES_SQL);
      const change = decide({ held: held.rows.map(fromRaw), roles: roles.rows.map(fromRawRole) });
      return write(client, change, options.traceparent);
    });
  }

  expireDue(
    now: Date,
    limit: number,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
  ): Promise<RoleAssignment[]> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<RawAssignmentRow>(TAKE_LAPSED_SQL, [now, limit]);
      // DELETE ... RETURNING keeps no order: announce them earliest first, as the contract says.
      const lapsed = rows
        .map(fromRaw)
        .sort((x, y) => (x.expireTime?.getTime() ?? 0) - (y.expireTime?.getTime() ?? 0));
      await insertOutbox(
        client,
        lapsed.map((assignment) => toEnvelope(announce(assignment))),
      );
      return lapsed;
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
      text: ASSIGNMENTS_OF_SQL,
      values: [subjectId],
    });
    return rows.map(fromRaw);
  }
}

/** Writes `change` and its events with `client`, in the transaction that read what it decided on. */
async function write<T>(
  client: pg.PoolClient,
  change: AuthzChange<T>,
  traceparent: string | undefined,
): Promise<T> {
  const { deleteAssignments = [], deleteRoles = [], saveRoles = [], saveAssignments = [] } = change;
  if (deleteAssignments.length > 0)
    await client.query(DELETE_ASSIGNMENTS_SQL, [
      deleteAssignments.map((key) => key.subjectId),
      deleteAssignments.map((key) => key.role),
    ]);
  if (deleteRoles.length > 0) await client.query(DELETE_ROLES_SQL, [deleteRoles]);
  for (const role of saveRoles)
    await client.query(SAVE_ROLE_SQL, [
      role.name,
      role.description,
      role.permissions,
      role.inherits,
      role.builtIn,
      role.createTime,
      role.updateTime,
    ]);
  if (saveAssignments.length > 0)
    await client
      .query(SAVE_ASSIGNMENTS_SQL, [
        saveAssignments.map((a) => a.subjectId),
        saveAssignments.map((a) => a.role),
        saveAssignments.map((a) => a.expireTime ?? null),
        saveAssignments.map((a) => a.createTime),
      ])
      .catch((error: unknown) => {
        throw roleDeletedMeanwhile(error, saveAssignments);
      });
  await insertOutbox(
    client,
    change.events.map((event) => toEnvelope(event, traceparent)),
  );
  return change.result;
}

async function claimBootstrapGrant(client: pg.PoolClient, grant: BootstrapGrant): Promise<boolean> {
  const values = [grant.entry, grant.subjectId, grant.grantTime];
  return (await client.query(CLAIM_BOOTSTRAP_GRANT_SQL, values)).rowCount === 1;
}

/**
 * A foreign-key failure on role_assignments is a role that went between the check and the
 * insert (a concurrent DeleteRole): ROLE_NOT_FOUND naming it. Any other error as it is.
 */
function roleDeletedMeanwhile(error: unknown, assignments: readonly AssignmentKey[]): unknown {
  if (!isForeignKeyViolation(error)) return error;
  const { detail = '' } = error as { detail?: string };
  const role =
    assignments.find((a) => detail.includes(`=(${a.role})`))?.role ?? assignments[0]?.role;
  return role === undefined ? error : roleNotFound(role);
}

const fromRawRole = (row: RawRoleRow): Role => ({
  name: row.name,
  description: row.description,
  permissions: row.permissions,
  inherits: row.inherits,
  builtIn: row.built_in,
  createTime: row.create_time,
  updateTime: row.update_time,
});

const fromRaw = (row: RawAssignmentRow): RoleAssignment =>
  toAssignment({
    subjectId: row.subject_id,
    roleName: row.role,
    expireTime: row.expire_time,
    createTime: row.create_time,
  });
