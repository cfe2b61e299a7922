import { isUniqueViolation } from '@warden/db';
import { outboxColumns, OUTBOX_UNNEST } from '@warden/events';
import type pg from 'pg';
import type { UserRepository } from '../../application/ports.js';
import type { Change, User } from '../../domain/user.js';
import type { UserEvent } from '../../domain/user-events.js';
import { emailTaken, userNotFound } from '../../errors.js';
import { isUserId } from '../../domain/user-id.js';
import { toEnvelope } from '../events/user-event-envelope.js';
import { eraseUserTraces } from './erase-user-traces.js';
import { writeOutbox } from './outbox.js';
import type { PrismaClient, TransactionClient } from './prisma-client.js';

/** The user and its events in one statement: the outbox rows go in only if the user did. */
const ADD_USER_SQL = `
WITH created AS (
  INSERT INTO users (id, email, display_name, password_hash, status, create_time, update_time)
  VALUES ($1::uuid, $2, $3, $4, $5::"UserStatus", $6, $7)
  RETURNING 1
)
INSERT INTO outbox (id, subject, type, payload, headers, create_time)
SELECT * FROM ${OUTBOX_UNNEST(8)} WHERE EXISTS (SELECT 1 FROM created)`;

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
 * Users through Prisma. What every registration and sign-in does goes to pg as prepared
 * statements: {@link add} as one statement (one round trip instead of Prisma's BEGIN, two INSERTs
 * and COMMIT), and the lookups by id and email.
 */
export class PrismaUserRepository implements UserRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: pg.Pool,
  ) {}

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
    return this.findOne('warden-user-by-id', 'id = $1', id);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return this.findOne('warden-user-by-email', 'email = $1', email);
  }

  /** The lookups of every sign-in and read, as prepared statements on pg. */
  private async findOne(name: string, where: string, value: string): Promise<User | undefined> {
    const { rows } = await this.pool.query<UserRow>({
      name,
      text: `SELECT id, email, display_name, password_hash, status, create_time, update_time
             FROM users WHERE ${where}`,
      values: [value],
    });
    const row = rows[0];
    return (
      row && {
        id: row.id,
        email: row.email,
        displayName: row.display_name,
        passwordHash: row.password_hash,
        status: row.status,
        createTime: row.create_time,
        updateTime: row.update_time,
      }
    );
  }

  async update(id: string, decide: (user: User) => Change, traceparent?: string): Promise<User> {
    return this.prisma.$transaction(async (tx) => {
      const user = await lockUser(tx, id);
      const change = decide(user);
      if (change.user !== user) {
        const { displayName, passwordHash, status, updateTime } = change.user;
        await tx.user.update({
          where: { id },
          data: { displayName, passwordHash, status, updateTime },
        });
      }
      await writeOutbox(tx, change.events, traceparent);
      return change.user;
    });
  }

  async remove(id: string, decide: (user: User) => UserEvent, traceparent?: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const user = await lockUser(tx, id);
      const event = decide(user);
      await tx.user.delete({ where: { id } });
      await tx.loginFailure.deleteMany({ where: { email: user.email } });
      await eraseUserTraces(tx, id);
      await writeOutbox(tx, [event], traceparent);
    });
  }
}

/** The user's row, locked until the transaction ends, so concurrent changes apply one after the other. */
async function lockUser(tx: TransactionClient, id: string): Promise<User> {
  const locked = await tx.$queryRaw<
    Array<{ id: string }>
  >`SELECT id FROM users WHERE id = ${id}::uuid FOR UPDATE`;
  const user = locked.length > 0 ? await tx.user.findUnique({ where: { id } }) : null;
  if (!user) throw userNotFound(id);
  return user;
}
