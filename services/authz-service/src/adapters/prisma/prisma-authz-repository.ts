import { isForeignKeyViolation, withTransaction, withTransactionFrom } from '@warden/db';
import { insertOutboxThenCommit, pgInbox } from '@warden/events';
import type pg from 'pg';
import type {
  AssignmentFilter,
  AssignmentKey,
  AuthzChange,
  AuthzRepository,
  BootstrapGrant,
  CatalogueState,
  EndedSession,
  EventReceipt,
  HolderQuery,
  SubjectState,
  WriteOptions,
} from '../../application/ports.js';
import {
  compareScopes,
  type AuthzEvent,
  type Role,
  type RoleAssignment,
} from '../../domain/index.js';
import { roleNotFound } from '../../errors.js';
import { stampRevisions } from '../../application/revisions.js';
import { toEnvelope } from '../../mapping.js';
import {
  ALL_ROLES_SQL,
  BOOTSTRAP_GRANTS_SQL,
  FIND_ROLE_SQL,
  LIST_ASSIGNMENTS_SQL,
  LIST_ROLES_SQL,
  ASSIGN_ONCE_SQL,
  ASSIGNMENTS_OF_MANY_SQL,
  ASSIGNMENTS_OF_SQL,
  CLAIM_BOOTSTRAP_GRANT_SQL,
  CURRENT_REVISION_SQL,
  TAKE_REVISIONS_SQL,
  DELETE_ASSIGNMENTS_SQL,
  DELETE_ROLES_SQL,
  FORGET_ENDED_SESSIONS_SQL,
  HAS_ACTIVE_HOLDER_SQL,
  HOLDERS_OF_SQL,
  LOCK_CATALOGUE_SQL,
  LOCK_SESSION_SQL,
  RECORD_ENDED_SESSION_SQL,
  SAVE_ASSIGNMENTS_SQL,
  SAVE_ROLE_SQL,
  SESSION_ENDED_SQL,
  SUBJECT_FOR_UPDATE_SQL,
  TAKE_BOUND_SQL,
  TAKE_LAPSED_SQL,
} from './authz-sql.js';

/** A roles row as pg returns it. */
type RoleRow = {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  built_in: boolean;
  create_time: Date;
  update_time: Date;
};
/** A role_assignments row as pg returns it. */
type AssignmentRow = {
  subject_id: string;
  role: string;
  expire_time: Date | null;
  create_time: Date;
  scope_type: string;
  scope_id: string;
  bound_session_id: string | null;
};

/**
 * Roles, assignments, processed events and the outbox in Postgres (the schema is Prisma's), on
 * pg. Each change is one transaction that writes the state, the outbox rows and the inbox or
 * bootstrap record together, and takes the revisions of its events (the `authz_revision` row,
 * last before commit); the two paths taken for every registration are prepared statements:
 * {@link assignOnce} (the default role: one statement, then its outbox rows) and
 * {@link assignmentsOf} (each replica's re-read).
 */
export class PrismaAuthzRepository implements AuthzRepository {
  constructor(private readonly pool: pg.Pool) {}

  async assignOnce(
    receipt: EventReceipt,
    assignments: readonly RoleAssignment[],
    events: readonly AuthzEvent[],
    options: WriteOptions = {},
  ): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      type Row = { applied: number; missing: string[]; revision: string | null };
      let result: pg.QueryResult<Row>;
      try {
        result = await client.query<Row>({
          name: 'warden-assign-once', // prepared once per connection
          text: ASSIGN_ONCE_SQL,
          values: [
            receipt.consumer,
            receipt.eventId,
            assignments.map((a) => a.subjectId),
            assignments.map((a) => a.role),
            assignments.map((a) => a.expireTime ?? null),
            assignments.map((a) => a.createTime),
            events.length,
          ],
        });
      } catch (error) {
        throw roleDeletedMeanwhile(error, assignments);
      }
      const [row] = result.rows;
      if (row!.missing.length > 0) throw roleNotFound(row!.missing[0]!);
      if (row!.applied !== 1) return false;
      if (row!.revision !== null) stampRevisions(events, Number(row!.revision));
      await insertOutboxThenCommit(
        client,
        events.map((event) => toEnvelope(event, options.traceparent)),
      );
      return true;
    });
  }

  updateCatalogue<T>(
    decide: (catalogue: CatalogueState) => Promise<AuthzChange<T>>,
    options: WriteOptions = {},
  ): Promise<T> {
    return withTransactionFrom<RoleRow, T>(this.pool, LOCK_CATALOGUE_SQL, async (client, roles) => {
      const change = await decide({
        roles: roles.map(roleFromRow),
        hasActiveHolder: async (names, now, except) => {
          // Only unscoped assignments count: a scoped one left out changes nothing.
          const unscoped = except?.scope === undefined ? except : undefined;
          const values = [names, now, unscoped?.subjectId ?? null, unscoped?.role ?? null];
          const { rows } = await client.query<{ held: boolean }>(HAS_ACTIVE_HOLDER_SQL, values);
          return rows[0]!.held;
        },
        assignmentsOf: async (subjectId) =>
          (await client.query<AssignmentRow>(ASSIGNMENTS_OF_SQL, [subjectId])).rows.map(
            assignmentFromRow,
          ),
      });
      return write(client, change, options.traceparent);
    });
  }

  updateSubject<T>(
    subjectId: string,
    decide: (subject: SubjectState) => AuthzChange<T>,
    options: WriteOptions & {
      inbox?: EventReceipt;
      claim?: BootstrapGrant;
      boundSession?: string;
    } = {},
  ): Promise<T | undefined> {
    return withTransaction(this.pool, async (client) => {
      const { inbox, claim, boundSession } = options;
      if (inbox && !(await pgInbox(this.pool).markProcessed(client, inbox.consumer, inbox.eventId)))
        return undefined;
      if (claim && !(await claimBootstrapGrant(client, claim))) return undefined;
      // The session's lock before the subject's rows, in the order endSession takes them.
      let sessionEnded: boolean | undefined;
      if (boundSession !== undefined) {
        await client.query(LOCK_SESSION_SQL, [boundSession]);
        const { rows } = await client.query<{ ended: boolean }>(SESSION_ENDED_SQL, [boundSession]);
        sessionEnded = rows[0]!.ended;
      }
      const held = await client.query<AssignmentRow>(SUBJECT_FOR_UPDATE_SQL, [subjectId]);
      const roles = await client.query<RoleRow>(ALL_ROLES_SQL);
      const change = decide({
        held: held.rows.map(assignmentFromRow),
        roles: roles.rows.map(roleFromRow),
        ...(sessionEnded === undefined ? {} : { sessionEnded }),
      });
      return write(client, change, options.traceparent);
    });
  }

  expireDue(
    now: Date,
    limit: number,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
  ): Promise<RoleAssignment[]> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<AssignmentRow>(TAKE_LAPSED_SQL, [now, limit]);
      // DELETE ... RETURNING keeps no order: announce them earliest first, as the contract says.
      const lapsed = rows
        .map(assignmentFromRow)
        .sort((x, y) => (x.expireTime?.getTime() ?? 0) - (y.expireTime?.getTime() ?? 0));
      await recordEvents(
        client,
        lapsed.map((assignment) => announce(assignment)),
        undefined,
      );
      return lapsed;
    });
  }

  endSession(
    receipt: EventReceipt,
    ended: EndedSession,
    now: Date,
    announce: (lapsed: RoleAssignment) => AuthzEvent,
    options: WriteOptions = {},
  ): Promise<RoleAssignment[] | undefined> {
    return withTransaction(this.pool, async (client) => {
      if (!(await pgInbox(this.pool).markProcessed(client, receipt.consumer, receipt.eventId)))
        return undefined;
      await client.query(LOCK_SESSION_SQL, [ended.sessionId]);
      await client.query(RECORD_ENDED_SESSION_SQL, [ended.sessionId, ended.endTime, now]);
      const { rows } = await client.query<AssignmentRow>(TAKE_BOUND_SQL, [ended.sessionId]);
      const lapsed = rows.map(assignmentFromRow).sort(byKey);
      await recordEvents(
        client,
        lapsed.map((assignment) => announce(assignment)),
        options.traceparent,
      );
      return lapsed;
    });
  }

  async forgetEndedSessions(before: Date, limit: number): Promise<number> {
    return (await this.pool.query(FORGET_ENDED_SESSIONS_SQL, [before, limit])).rowCount ?? 0;
  }

  async findRole(name: string): Promise<Role | undefined> {
    const { rows } = await this.pool.query<RoleRow>(FIND_ROLE_SQL, [name]);
    return rows[0] && roleFromRow(rows[0]);
  }

  async bootstrapGrants(): Promise<string[]> {
    const { rows } = await this.pool.query<{ entry: string }>(BOOTSTRAP_GRANTS_SQL);
    return rows.map((row) => row.entry);
  }

  async listRoles(page: { afterName?: string; limit: number }): Promise<Role[]> {
    const values = [page.afterName ?? null, page.limit];
    return (await this.pool.query<RoleRow>(LIST_ROLES_SQL, values)).rows.map(roleFromRow);
  }

  async listAssignments(filter: AssignmentFilter): Promise<RoleAssignment[]> {
    const { rows } = await this.pool.query<AssignmentRow>(LIST_ASSIGNMENTS_SQL, [
      filter.now,
      filter.subjectId ?? null,
      filter.role ?? null,
      filter.after?.subjectId ?? null,
      filter.after?.role ?? null,
      filter.limit,
      filter.scope?.type ?? null,
      filter.scope?.id ?? null,
      filter.after?.scope?.type ?? '',
      filter.after?.scope?.id ?? '',
    ]);
    return rows.map(assignmentFromRow);
  }

  async currentRevision(): Promise<number> {
    const { rows } = await this.pool.query<{ revision: string }>(CURRENT_REVISION_SQL);
    return Number(rows[0]?.revision ?? 0);
  }

  async allRoles(): Promise<Role[]> {
    return (await this.pool.query<RoleRow>(ALL_ROLES_SQL)).rows.map(roleFromRow);
  }

  /**
   * A cache miss, or an event about a subject a replica holds: one read on the primary key
   * (subject_id, role, scope), prepared once per connection.
   */
  async assignmentsOf(subjectId: string): Promise<RoleAssignment[]> {
    const { rows } = await this.pool.query<AssignmentRow>({
      name: 'warden-assignments-of',
      text: ASSIGNMENTS_OF_SQL,
      values: [subjectId],
    });
    return rows.map(assignmentFromRow);
  }

  /** Cache misses that came together: one read on the primary key, prepared once per connection. */
  async assignmentsOfMany(subjectIds: readonly string[]): Promise<Map<string, RoleAssignment[]>> {
    const { rows } = await this.pool.query<AssignmentRow>({
      name: 'warden-assignments-of-many',
      text: ASSIGNMENTS_OF_MANY_SQL,
      values: [subjectIds],
    });
    const bySubject = new Map<string, RoleAssignment[]>();
    for (const row of rows) {
      const held = bySubject.get(row.subject_id);
      if (held) held.push(assignmentFromRow(row));
      else bySubject.set(row.subject_id, [assignmentFromRow(row)]);
    }
    return bySubject;
  }

  /** LookupSubjects' page: one statement, prepared once per connection (see HOLDERS_OF_SQL). */
  async holdersOf(query: HolderQuery): Promise<string[]> {
    const open = query.slices.filter((slice) => slice.subjectId === undefined);
    const owned = query.slices.filter((slice) => slice.subjectId !== undefined);
    const { rows } = await this.pool.query<{ subject_id: string }>({
      name: 'warden-holders-of',
      text: HOLDERS_OF_SQL,
      values: [
        open.map((slice) => slice.role),
        open.map((slice) => slice.scope?.type ?? ''),
        open.map((slice) => slice.scope?.id ?? ''),
        owned.map((slice) => slice.role),
        owned.map((slice) => slice.scope?.type ?? ''),
        owned.map((slice) => slice.scope?.id ?? ''),
        owned.map((slice) => slice.subjectId!),
        query.after ?? '',
        query.now,
        query.limit,
      ],
    });
    return rows.map((row) => row.subject_id);
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
      deleteAssignments.map((key) => key.scope?.type ?? ''),
      deleteAssignments.map((key) => key.scope?.id ?? ''),
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
        saveAssignments.map((a) => a.scope?.type ?? ''),
        saveAssignments.map((a) => a.scope?.id ?? ''),
        saveAssignments.map((a) => a.boundSessionId ?? null),
      ])
      .catch((error: unknown) => {
        throw roleDeletedMeanwhile(error, saveAssignments);
      });
  await recordEvents(client, change.events, traceparent);
  return change.result;
}

/**
 * The write's events into the outbox, each stamped with its revision: taken here, the last thing
 * before commit, so the revision row is held as briefly as can be. No events, no revision.
 */
async function recordEvents(
  client: pg.PoolClient,
  events: readonly AuthzEvent[],
  traceparent: string | undefined,
): Promise<void> {
  if (events.length === 0) return;
  const { rows } = await client.query<{ revision: string }>(TAKE_REVISIONS_SQL, [events.length]);
  stampRevisions(events, Number(rows[0]!.revision));
  await insertOutboxThenCommit(
    client,
    events.map((event) => toEnvelope(event, traceparent)),
  );
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

const roleFromRow = (row: RoleRow): Role => ({
  name: row.name,
  description: row.description,
  permissions: row.permissions,
  inherits: row.inherits,
  builtIn: row.built_in,
  createTime: row.create_time,
  updateTime: row.update_time,
});

const assignmentFromRow = (row: AssignmentRow): RoleAssignment => ({
  subjectId: row.subject_id,
  role: row.role,
  ...(row.expire_time ? { expireTime: row.expire_time } : {}),
  createTime: row.create_time,
  ...(row.scope_type === '' ? {} : { scope: { type: row.scope_type, id: row.scope_id } }),
  ...(row.bound_session_id === null ? {} : { boundSessionId: row.bound_session_id }),
});

/** Subject, role, then scope (unscoped first): the order events about several assignments go in. */
const byKey = (a: RoleAssignment, b: RoleAssignment): number =>
  compare(a.subjectId, b.subjectId) || compare(a.role, b.role) || compareScopes(a.scope, b.scope);
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
