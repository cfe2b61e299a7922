import { isUniqueViolation, withTransaction } from '@warden/db';
import { insertOutbox, outboxColumns } from '@warden/events';
import type pg from 'pg';
import type { UserRepository } from '../../application/ports.js';
import type { Change, User } from '../../domain/user.js';
import type { UserEvent } from '../../domain/user-events.js';
import { isUserId } from '../../domain/user-id.js';
import { emailTaken, userNotFound } from '../../errors.js';
import { toEnvelope } from '../../mapping.js';
import { eraseUserTraces } from './erase-user-traces.js';
import {
  ADD_USER_SQL,
  DELETE_USER_SQL,
  FORGET_LOGIN_FAILURES_SQL,
  LOCK_USER_SQL,
  UPDATE_USER_SQL,
  USER_BY_EMAIL_SQL,
  USER_BY_ID_SQL,
} from './user-sql.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  status: User['status'];
  create_time: Date;
  update_time: Date;
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
          ...outboxColumns(change.events.map((event) => toEnvelope(event, traceparent))),
        ],
      });
    } catch (error) {
      // On the email: the id is a fresh UUIDv7.
      if (isUniqueViolation(error)) throw emailTaken();
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
        const { displayName, passwordHash, status, updateTime } = change.user;
        await client.query(UPDATE_USER_SQL, [id, displayName, passwordHash, status, updateTime]);
      }
      await insertOutbox(
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
      await insertOutbox(client, [toEnvelope(event, traceparent)]);
    });
  }
}

async function lockUser(client: pg.ClientBase, id: string): Promise<User> {
  const { rows } = isUserId(id) ? await client.query<UserRow>(LOCK_USER_SQL, [id]) : { rows: [] };
  if (!rows[0]) throw userNotFound(id);
  return userFromRow(rows[0]);
}

const userFromRow = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  passwordHash: row.password_hash,
  status: row.status,
  createTime: row.create_time,
  updateTime: row.update_time,
});
