import { processOnce } from '@warden/events';
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
import type { PrismaClient, TransactionClient } from './prisma-client.js';
import { saveChanges } from './save-changes.js';
import { toSession } from './session-rows.js';

/** Advisory lock namespace (first key) for "one writer per user's session set". */
const USER_SESSIONS_LOCK = 0x5e55;

export class PrismaSessionRepository implements SessionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async findById(id: string): Promise<Session | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.prisma.session.findUnique({ where: { id } });
    return row ? toSession(row) : undefined;
  }

  async findByTokenHash(tokenHash: string): Promise<Session | undefined> {
    const row = await this.prisma.session.findUnique({ where: { tokenHash } });
    return row ? toSession(row) : undefined;
  }

  async findByRotatedTokenHash(tokenHash: string): Promise<Session | undefined> {
    const row = await this.prisma.rotatedToken.findUnique({
      where: { tokenHash },
      include: { session: true },
    });
    return row ? toSession(row.session) : undefined;
  }

  async listActive(
    userId: string,
    now: Date,
    limit: number,
    after?: ListCursor,
  ): Promise<Session[]> {
    if (!isUuid(userId)) return [];
    const rows = await this.prisma.session.findMany({
      where: {
        userId,
        status: 'ACTIVE',
        expireTime: { gt: now },
        idleExpireTime: { gt: now },
        ...(after && isUuid(after.id)
          ? {
              OR: [
                { createTime: { lt: after.createTime } },
                { createTime: after.createTime, id: { lt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createTime: 'desc' }, { id: 'desc' }],
      take: limit,
    });
    return rows.map(toSession);
  }

  async update(
    id: string,
    change: (session: Session) => SessionChange | undefined,
    options?: WriteOptions,
  ): Promise<Session | undefined> {
    if (!isUuid(id)) return undefined;
    return this.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<
        Array<{ id: string }>
      >`SELECT id FROM sessions WHERE id = ${id}::uuid FOR UPDATE`;
      if (!row) return undefined;
      const stored = toSession(await tx.session.findUniqueOrThrow({ where: { id } }));
      const result = change(stored);
      if (!result) return stored;
      await saveChanges(tx, [result], options?.traceparent);
      return result.session;
    });
  }

  async updateUserSessions(
    userId: string,
    decide: (active: Session[]) => SessionChange[],
    options: WriteOptions & { inbox?: InboxEntry } = {},
  ): Promise<SessionChange[] | undefined> {
    const apply = async (tx: TransactionClient): Promise<SessionChange[]> => {
      if (!isUuid(userId)) return [];
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${USER_SESSIONS_LOCK}::int, hashtext(${userId}))`;
      const rows = await tx.session.findMany({ where: { userId, status: 'ACTIVE' } });
      const changes = decide(rows.map(toSession));
      await saveChanges(tx, changes, options.traceparent);
      return changes;
    };
    if (!options.inbox) return this.prisma.$transaction(apply);
    let changes: SessionChange[] = [];
    const applied = await processOnce<TransactionClient>({
      transaction: (fn) => this.prisma.$transaction(fn),
      markProcessed: async (tx, consumer, eventId) =>
        (await tx.$executeRaw`
          INSERT INTO processed_events (consumer, event_id, processed_time) VALUES (${consumer}, ${eventId}, now())
          ON CONFLICT DO NOTHING`) === 1,
      consumer: options.inbox.consumer,
      eventId: options.inbox.eventId,
      apply: async (tx) => {
        changes = await apply(tx);
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
    return this.prisma.$transaction(async (tx) => {
      const due = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM sessions
        WHERE status = 'ACTIVE' AND (idle_expire_time <= ${idleCutoff} OR expire_time <= ${now})
        ORDER BY idle_expire_time
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED`;
      if (due.length === 0) return [];
      const rows = await tx.session.findMany({ where: { id: { in: due.map((d) => d.id) } } });
      const changes = rows
        .map((row) => expire(toSession(row)))
        .filter((c): c is SessionChange => c !== undefined);
      await saveChanges(tx, changes);
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
