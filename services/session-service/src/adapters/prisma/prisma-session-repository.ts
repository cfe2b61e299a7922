import { lastRows, withTransaction, withTransactionFrom } from '@warden/db';
import { pgInbox, processOnce } from '@warden/events';
import type pg from 'pg';
import type {
  Activity,
  InboxEntry,
  ListCursor,
  SessionRepository,
  WriteOptions,
} from '../../application/ports.js';
import type { SessionChange } from '../../domain/session-events.js';
import { isUuid } from '../../domain/session-id.js';
import type { Session } from '../../domain/session.js';
import type { PrismaClient } from './prisma-client.js';
import { eraseUserData } from './erase-user-data.js';
import { saveChanges } from './save-changes.js';
import { SESSION_COLUMNS, sessionFromRow, type SessionRow } from './session-rows.js';

/** {@link SESSION_COLUMNS} of the sessions table aliased `s`. */
const SESSION_COLUMNS_OF_S = SESSION_COLUMNS.split(', ')
  .map((column) => `s.${column}`)
  .join(', ');

/** Advisory lock namespace (first key) for "one writer per user's session set". */
const USER_SESSIONS_LOCK = 0x5e55;

/**
 * Sessions in Postgres. The schema is Prisma's, and so are the listing queries; the lookups by id
 * and token and the commands' writes (a locking read, then {@link saveChanges}' one statement, in a
 * pg transaction on the same pool) go straight to pg as prepared statements: through Prisma's
 * interactive transaction, EndSession cost twice the CPU (bench/end-session.ts).
 */
export class PrismaSessionRepository implements SessionRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: pg.Pool,
  ) {}

  async findById(id: string): Promise<Session | undefined> {
    if (!isUuid(id)) return undefined;
    return this.findOne('warden-session-by-id', 'id = $1', id);
  }

  async findByTokenHash(tokenHash: string): Promise<Session | undefined> {
    return this.findOne('warden-session-by-token', 'token_hash = $1', tokenHash);
  }

  /** The lookups every command and validation makes, as prepared statements on pg. */
  private async findOne(name: string, where: string, value: string): Promise<Session | undefined> {
    const { rows } = await this.pool.query<SessionRow>({
      name,
      text: `SELECT ${SESSION_COLUMNS} FROM sessions WHERE ${where}`,
      values: [value],
    });
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async findByRotatedTokenHash(tokenHash: string): Promise<Session | undefined> {
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS_OF_S} FROM rotated_tokens r JOIN sessions s ON s.id = r.session_id
       WHERE r.token_hash = $1`,
      [tokenHash],
    );
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async listActive(
    userId: string,
    now: Date,
    limit: number,
    after?: ListCursor,
  ): Promise<Session[]> {
    if (!isUuid(userId)) return [];
    const keyset = after && isUuid(after.id);
    const { rows } = await this.pool.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions
       WHERE user_id = $1 AND status = 'ACTIVE' AND expire_time > $2 AND idle_expire_time > $2
       ${keyset ? 'AND (create_time, id) < ($4, $5::uuid)' : ''}
       ORDER BY create_time DESC, id DESC
       LIMIT $3`,
      keyset ? [userId, now, limit, after.createTime, after.id] : [userId, now, limit],
    );
    return rows.map(sessionFromRow);
  }

  async update(
    id: string,
    change: (session: Session) => SessionChange | undefined,
    options?: WriteOptions,
  ): Promise<Session | undefined> {
    if (!isUuid(id)) return undefined;
    // The id passed isUuid, so it may be inlined: BEGIN and the locking read are one round trip.
    const lock = `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = '${id}' FOR UPDATE`;
    return withTransactionFrom<SessionRow, Session | undefined>(
      this.pool,
      lock,
      async (client, rows) => {
        if (!rows[0]) return undefined;
        const stored = sessionFromRow(rows[0]);
        const result = change(stored);
        if (!result) return stored;
        await saveChanges(client, [result], options?.traceparent);
        return result.session;
      },
    );
  }

  async updateUserSessions(
    userId: string,
    decide: (active: Session[]) => SessionChange[],
    options: WriteOptions & { inbox?: InboxEntry; eraseUser?: boolean } = {},
  ): Promise<SessionChange[] | undefined> {
    if (!isUuid(userId)) return [];
    // The user id passed isUuid, so it may be inlined: the lock and the read go with BEGIN.
    const lockAndRead = `SELECT pg_advisory_xact_lock(${USER_SESSIONS_LOCK}, hashtext('${userId}'));
      SELECT ${SESSION_COLUMNS} FROM sessions WHERE user_id = '${userId}' AND status = 'ACTIVE'`;
    const decideAndSave = async (client: pg.PoolClient, active: SessionRow[]) => {
      const changes = decide(active.map(sessionFromRow));
      await saveChanges(client, changes, options.traceparent);
      if (options.eraseUser) await eraseUserData(client, userId);
      return changes;
    };
    if (!options.inbox) return withTransactionFrom(this.pool, lockAndRead, decideAndSave);
    let changes: SessionChange[] = [];
    const applied = await processOnce({
      ...pgInbox(this.pool),
      consumer: options.inbox.consumer,
      eventId: options.inbox.eventId,
      apply: async (client) => {
        changes = await decideAndSave(
          client,
          lastRows<SessionRow>(await client.query(lockAndRead)),
        );
      },
    });
    return applied ? changes : undefined;
  }

  async recordActivity(batch: readonly Activity[]): Promise<void> {
    if (batch.length === 0) return;
    const ids = batch.map((a) => a.sessionId);
    // SKIP LOCKED: a row another transaction is changing (ending, refreshing) is left alone, so
    // the flusher never waits on, or deadlocks with, a user-facing write.
    await this.prisma.$executeRaw`
      UPDATE sessions AS s
      SET last_seen_time = GREATEST(s.last_seen_time, u.last_seen_time),
          idle_expire_time = GREATEST(s.idle_expire_time, u.idle_expire_time)
      FROM unnest(
        ${ids}::uuid[],
        ${batch.map((a) => a.lastSeenTime.toISOString())}::timestamptz[],
        ${batch.map((a) => a.idleExpireTime.toISOString())}::timestamptz[]
      ) AS u(id, last_seen_time, idle_expire_time)
      WHERE s.id = u.id
        AND s.id IN (SELECT id FROM sessions WHERE id = ANY(${ids}::uuid[]) AND status = 'ACTIVE' FOR UPDATE SKIP LOCKED)`;
  }

  async expireDue(
    now: Date,
    idleCutoff: Date,
    limit: number,
    expire: (session: Session) => SessionChange | undefined,
  ): Promise<SessionChange[]> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<SessionRow>({
        name: 'warden-sessions-due',
        text: `SELECT ${SESSION_COLUMNS} FROM sessions
               WHERE status = 'ACTIVE' AND (idle_expire_time <= $1 OR expire_time <= $2)
               ORDER BY idle_expire_time
               LIMIT $3
               FOR UPDATE SKIP LOCKED`,
        values: [idleCutoff, now, limit],
      });
      const changes = rows
        .map((row) => expire(sessionFromRow(row)))
        .filter((c): c is SessionChange => c !== undefined);
      await saveChanges(client, changes);
      return changes;
    });
  }

  async purgeEnded(endedBefore: Date, limit: number): Promise<number> {
    // Rotated tokens go with their session (ON DELETE CASCADE).
    return this.prisma.$executeRaw`
      DELETE FROM sessions WHERE id IN (
        SELECT id FROM sessions
        WHERE status <> 'ACTIVE' AND end_time < ${endedBefore}
        ORDER BY end_time
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)`;
  }
}
