import { lastRows, withTransaction, withTransactionFrom } from '@warden/db';
import { pgInbox, processOnce } from '@warden/events';
import type pg from 'pg';
import type {
  Activity,
  ListCursor,
  SessionRepository,
  UserSessionsWriteOptions,
  WriteOptions,
} from '../../application/ports.js';
import type { SessionChange } from '../../domain/session-events.js';
import { isUuid } from '../../domain/session-id.js';
import type { Session } from '../../domain/session.js';
import { mfaChallengeNotFound } from '../../errors.js';
import { eraseUserData } from './erase-user-data.js';
import { CONSUME_CHALLENGE_SQL } from './pg-mfa-challenge-store.js';
import { saveChanges, saveIfUnchanged } from './save-changes.js';
import { sessionFromRow, type SessionRow } from './session-rows.js';
import {
  listActiveSql,
  lockSessionSql,
  lockUserSessionsSql,
  PURGE_ENDED_SQL,
  RECORD_ACTIVITY_SQL,
  SESSION_BY_ID_SQL,
  SESSION_BY_ROTATED_TOKEN_SQL,
  SESSION_BY_START_REQUEST_SQL,
  SESSION_BY_TOKEN_SQL,
  SESSIONS_DUE_SQL,
  VERSIONED_SESSION_BY_ID_SQL,
} from './session-sql.js';

/** Optimistic tries of {@link PrismaSessionRepository.update} before it takes the row's lock. */
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * Sessions in Postgres (the schema is Prisma's), on pg: lookups as prepared statements; a change of
 * one session as a versioned read and one conditional statement (see `update`); changes of a
 * user's sessions as a locking read, then {@link saveChanges}' one statement, in one transaction.
 * Through Prisma's interactive transaction, EndSession cost twice the CPU (bench/end-session.ts).
 */
export class PrismaSessionRepository implements SessionRepository {
  constructor(private readonly pool: pg.Pool) {}

  async findById(id: string): Promise<Session | undefined> {
    if (!isUuid(id)) return undefined;
    return this.findOne('warden-session-by-id', SESSION_BY_ID_SQL, id);
  }

  async findByTokenHash(tokenHash: string): Promise<Session | undefined> {
    return this.findOne('warden-session-by-token', SESSION_BY_TOKEN_SQL, tokenHash);
  }

  async findByRotatedTokenHash(tokenHash: string): Promise<Session | undefined> {
    return this.findOne('warden-session-by-rotated-token', SESSION_BY_ROTATED_TOKEN_SQL, tokenHash);
  }

  async findByStartRequest(requestAddress: string): Promise<Session | undefined> {
    const { rows } = await this.pool.query<SessionRow>(SESSION_BY_START_REQUEST_SQL, [
      requestAddress,
    ]);
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  /** The lookups every command and validation makes, as prepared statements on pg. */
  private async findOne(name: string, text: string, value: string): Promise<Session | undefined> {
    const { rows } = await this.pool.query<SessionRow>({ name, text, values: [value] });
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async listActive(
    userId: string,
    now: Date,
    limit: number,
    after?: ListCursor,
  ): Promise<Session[]> {
    if (!isUuid(userId)) return [];
    const keyset = after !== undefined && isUuid(after.id);
    const { rows } = await this.pool.query<SessionRow>(
      listActiveSql(keyset),
      keyset ? [userId, now, limit, after.createTime, after.id] : [userId, now, limit],
    );
    return rows.map(sessionFromRow);
  }

  /**
   * Optimistic first: the row and its version in one read, the change, then one statement writing
   * it only if the row is still that version (see SAVE_IF_UNCHANGED_SQL): two round trips and no
   * BEGIN/COMMIT, where the locking transaction takes three. A row changed in between (a refresh,
   * the activity flusher, a sweeper) is read again; after {@link OPTIMISTIC_ATTEMPTS} such misses,
   * the locking transaction decides, so a hot row still makes progress. `change` may run more than
   * once, each time on the latest row; only its last result is written.
   */
  async update(
    id: string,
    change: (session: Session) => SessionChange | undefined,
    options?: WriteOptions,
  ): Promise<Session | undefined> {
    if (!isUuid(id)) return undefined;
    for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt++) {
      const { rows } = await this.pool.query<SessionRow & { version: string }>({
        name: 'warden-session-versioned',
        text: VERSIONED_SESSION_BY_ID_SQL,
        values: [id],
      });
      if (!rows[0]) return undefined;
      const stored = sessionFromRow(rows[0]);
      const result = change(stored);
      if (!result) return stored;
      if (await saveIfUnchanged(this.pool, result, rows[0].version, options?.traceparent))
        return result.session;
    }
    return this.updateLocked(id, change, options);
  }

  /** {@link update} under the row's lock, in a transaction. */
  private updateLocked(
    id: string,
    change: (session: Session) => SessionChange | undefined,
    options?: WriteOptions,
  ): Promise<Session | undefined> {
    // The id passed isUuid, so it may be inlined: BEGIN and the locking read are one round trip.
    const lock = lockSessionSql(id);
    return withTransactionFrom<SessionRow, Session | undefined>(
      this.pool,
      lock,
      async (client, rows) => {
        if (!rows[0]) return undefined;
        const stored = sessionFromRow(rows[0]);
        const result = change(stored);
        if (!result) return stored;
        await saveChanges(client, [result], { traceparent: options?.traceparent, commit: true });
        return result.session;
      },
    );
  }

  async updateUserSessions(
    userId: string,
    decide: (active: Session[]) => SessionChange[],
    options: UserSessionsWriteOptions = {},
  ): Promise<SessionChange[] | undefined> {
    if (!isUuid(userId)) return [];
    // The user id passed isUuid, so it may be inlined: the lock and the read go with BEGIN.
    const lockAndRead = lockUserSessionsSql(userId);
    // Without an inbox to mark or a user's data to erase after it, the save ends the transaction.
    const last = !options.inbox && !options.eraseUser;
    const decideAndSave = async (client: pg.PoolClient, active: SessionRow[]) => {
      // The challenge goes with the session it makes (a crash before COMMIT leaves both as they
      // were); of two calls racing on one, the second waits on the row and finds it gone.
      if (options.consumeChallenge !== undefined) {
        const { rowCount } = await client.query(CONSUME_CHALLENGE_SQL, [options.consumeChallenge]);
        if (!rowCount) throw mfaChallengeNotFound();
      }
      const changes = decide(active.map(sessionFromRow));
      answered = await saveChanges(client, changes, { ...options, commit: last });
      if (options.eraseUser) await eraseUserData(client, userId);
      return changes;
    };
    // The request's answer went in with the changes: stored once the transaction has committed.
    let answered = false;
    const committed = <T>(result: T): T => {
      if (answered) options.answer?.committed();
      return result;
    };
    if (!options.inbox)
      return committed(await withTransactionFrom(this.pool, lockAndRead, decideAndSave));
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
    return committed(applied ? changes : undefined);
  }

  async recordActivity(batch: readonly Activity[]): Promise<void> {
    if (batch.length === 0) return;
    await this.pool.query(RECORD_ACTIVITY_SQL, [
      batch.map((a) => a.sessionId),
      batch.map((a) => a.lastSeenTime),
      batch.map((a) => a.idleExpireTime),
    ]);
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
        text: SESSIONS_DUE_SQL,
        values: [idleCutoff, now, limit],
      });
      const changes = rows
        .map((row) => expire(sessionFromRow(row)))
        .filter((c): c is SessionChange => c !== undefined);
      await saveChanges(client, changes, { commit: true });
      return changes;
    });
  }

  async purgeEnded(endedBefore: Date, limit: number): Promise<number> {
    return (await this.pool.query(PURGE_ENDED_SQL, [endedBefore, limit])).rowCount ?? 0;
  }
}
