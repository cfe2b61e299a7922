import { isUniqueViolation, withTransaction } from '@warden/db';
import {
  auditColumns,
  auditEntriesOf,
  insertOutbox,
  insertOutboxThenCommit,
  outboxColumns,
} from '@warden/events';
import type pg from 'pg';
import type { AddOutcome, UserRepository } from '../../application/ports.js';
import type { Change, User } from '../../domain/user.js';
import type { UserEvent } from '../../domain/user-events.js';
import { isUserId } from '../../domain/user-id.js';
import { emailTaken, externalIdTaken, userNotFound } from '../../errors.js';
import { toEnvelope } from '../../mapping.js';
import { eraseUserTraces } from './erase-user-traces.js';
import {
  ADD_USER_SQL,
  ADD_USERS_SQL,
  TAKEN_SQL,
  DELETE_USER_SQL,
  FORGET_LOGIN_FAILURES_SQL,
  LOCK_USER_SQL,
  UPDATE_USER_SQL,
  USER_BY_EMAIL_SQL,
  USER_BY_ID_SQL,
} from './user-sql.js';

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  status: User['status'];
  create_time: Date;
  update_time: Date;
  email_verified: boolean;
  external_id: string | null;
  metadata: Record<string, string>;
  mfa_enabled: boolean;
}

/**
 * Users in Postgres (the schema is Prisma's; listings read through PrismaUserDirectory), on pg:
 * {@link add} as one prepared statement (the user and its outbox rows), the lookups by id and
 * email as prepared statements, and update and remove in a transaction that locks the row and
 * writes the outbox with the state.
 */
export class PrismaUserRepository implements UserRepository {
  constructor(private readonly pool: pg.Pool) {}

  async add(change: Change, traceparent?: string): Promise<void> {
    const { user } = change;
    const events = change.events.map((event) => toEnvelope(event, traceparent));
    try {
      await this.pool.query({
        name: 'warden-add-user', // prepared once per connection
        text: ADD_USER_SQL,
        values: [
          user.id,
          user.email,
          user.displayName,
          user.passwordHash,
          user.status,
          user.createTime,
          user.updateTime,
          user.emailVerified,
          user.externalId || null,
          JSON.stringify(user.metadata),
          user.mfaEnabled,
          ...outboxColumns(events),
          ...auditColumns(auditEntriesOf(events)),
        ],
      });
    } catch (error) {
      // On the email or the external id: the id is a fresh UUIDv7.
      if (isUniqueViolation(error)) throw takenBy(error);
      throw error;
    }
  }

  async get(id: string): Promise<User | undefined> {
    if (!isUserId(id)) return undefined; // the column is uuid: pg would refuse the text
    return this.findOne('warden-user-by-id', USER_BY_ID_SQL, id);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.findOne('warden-user-by-email', USER_BY_EMAIL_SQL, email);
  }

  /** The lookups of every sign-in and read, as prepared statements on pg. */
  private async findOne(name: string, text: string, value: string): Promise<User | undefined> {
    const { rows } = await this.pool.query<UserRow>({ name, text, values: [value] });
    return rows[0] && userFromRow(rows[0]);
  }

  update(id: string, decide: (user: User) => Change, traceparent?: string): Promise<User> {
    return withTransaction(this.pool, async (client) => {
      const user = await lockUser(client, id);
      const change = decide(user);
      if (change.user !== user) {
        try {
          await client.query(UPDATE_USER_SQL, updateValues(change.user));
        } catch (error) {
          if (isUniqueViolation(error)) throw takenBy(error);
          throw error;
        }
      }
      await insertOutboxThenCommit(
        client,
        change.events.map((event) => toEnvelope(event, traceparent)),
      );
      return change.user;
    });
  }

  async remove(id: string, decide: (user: User) => UserEvent, traceparent?: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      const user = await lockUser(client, id);
      const event = decide(user);
      await client.query(DELETE_USER_SQL, [id]);
      await client.query(FORGET_LOGIN_FAILURES_SQL, [user.email]);
      await eraseUserTraces(client, id);
      await insertOutboxThenCommit(client, [toEnvelope(event, traceparent)]);
    });
  }

  async addMany(changes: readonly Change[], traceparent?: string): Promise<AddOutcome[]> {
    if (changes.length === 0) return [];
    const users = changes.map((c) => c.user);
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string }>(ADD_USERS_SQL, [
        users.map((u) => u.id),
        users.map((u) => u.email),
        users.map((u) => u.displayName),
        users.map((u) => u.passwordHash),
        users.map((u) => u.createTime),
        users.map((u) => u.emailVerified),
        users.map((u) => u.externalId || null),
        users.map((u) => JSON.stringify(u.metadata)),
      ]);
      const added = new Set(rows.map((r) => r.id));
      await insertOutbox(
        client,
        changes
          .filter((c) => added.has(c.user.id))
          .flatMap((c) => c.events.map((event) => toEnvelope(event, traceparent))),
      );
      if (added.size === users.length) return users.map(() => 'ADDED' as const);
      const skipped = users.filter((u) => !added.has(u.id));
      const taken = await client.query<{ email: string; external_id: string | null }>(TAKEN_SQL, [
        skipped.map((u) => u.email),
        skipped.map((u) => u.externalId).filter((x) => x !== ''),
      ]);
      const emails = new Set(taken.rows.map((r) => r.email));
      return users.map((u) =>
        added.has(u.id) ? 'ADDED' : emails.has(u.email) ? 'EMAIL_TAKEN' : 'EXTERNAL_ID_TAKEN',
      );
    });
  }
}

/** Which unique index refused a write: the external id's, else the email's. */
const takenBy = (error: unknown) =>
  (error as { constraint?: string }).constraint === 'users_external_id_key'
    ? externalIdTaken()
    : emailTaken();

/** The parameters of UPDATE_USER_SQL. */
export const updateValues = (u: User): unknown[] => [
  u.id,
  u.displayName,
  u.passwordHash,
  u.status,
  u.updateTime,
  u.emailVerified,
  u.externalId || null,
  JSON.stringify(u.metadata),
  u.mfaEnabled,
];

export async function lockUser(client: pg.ClientBase, id: string): Promise<User> {
  const { rows } = isUserId(id) ? await client.query<UserRow>(LOCK_USER_SQL, [id]) : { rows: [] };
  if (!rows[0]) throw userNotFound(id);
  return userFromRow(rows[0]);
}

export const userFromRow = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  passwordHash: row.password_hash,
  status: row.status,
  createTime: row.create_time,
  updateTime: row.update_time,
  emailVerified: row.email_verified,
  externalId: row.external_id ?? '',
  metadata: row.metadata,
  mfaEnabled: row.mfa_enabled,
});
