import type pg from 'pg';
import type { LoginFailureStore, SignInLookup } from '../../application/ports.js';
import type { FailureSlot, LockoutPolicy, LoginFailures } from '../../domain/login-failures.js';
import type { User } from '../../domain/user.js';
import { userFromRow, type UserRow } from './prisma-user-repository.js';
import { USER_COLUMNS } from './user-sql.js';

type Row = {
  email: string;
  failure_count: number;
  window_start_time: Date;
  locked_until_time: Date | null;
};

/**
 * Lockout bookkeeping commits asynchronously (no WAL flush wait, ~5 ms less per sign-in): a
 * Postgres crash may forget the last fraction of a second of counts, never break their atomicity.
 */
const ASYNC_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`;

/**
 * `takeFailureSlot` in one statement: the upsert locks the email's row, so concurrent attempts
 * queue on it and each sees the count the previous one left. When the window is full the WHERE
 * leaves the row as it is and nothing is returned.
 */
const TAKE_SLOT = `
  INSERT INTO login_failures AS f (email, failure_count, window_start_time, locked_until_time)
  SELECT $1, 1, $2, CASE WHEN $3::int <= 1 THEN $2::timestamptz + $4::float8 * interval '1 millisecond' END
  FROM ${ASYNC_COMMIT}
  ON CONFLICT (email) DO UPDATE SET
    failure_count = CASE WHEN f.window_start_time + $4::float8 * interval '1 millisecond' <= $2
                         THEN 1 ELSE f.failure_count + 1 END,
    window_start_time = CASE WHEN f.window_start_time + $4::float8 * interval '1 millisecond' <= $2
                             THEN $2 ELSE f.window_start_time END,
    locked_until_time = CASE
      WHEN f.window_start_time + $4::float8 * interval '1 millisecond' <= $2
        THEN CASE WHEN $3::int <= 1 THEN $2::timestamptz + $4::float8 * interval '1 millisecond' END
      WHEN f.failure_count + 1 >= $3::int
        THEN f.window_start_time + $4::float8 * interval '1 millisecond'
      END
    WHERE f.window_start_time + $4::float8 * interval '1 millisecond' <= $2
       OR f.failure_count < $3::int
  RETURNING email, failure_count, window_start_time, locked_until_time`;

/**
 * TAKE_SLOT and the account of the email in one statement: always one row, its user columns null
 * when no account has the email, its slot columns null when the slot was refused. The lookup sees
 * the statement's snapshot, as a lookup sent just before the slot would.
 */
const TAKE_SLOT_AND_FIND = `
  WITH slot AS (${TAKE_SLOT})
  SELECT ${USER_COLUMNS.split(', ')
    .map((column) => `u.${column}`)
    .join(', ')},
         slot.failure_count, slot.window_start_time AS slot_window_start_time,
         slot.locked_until_time AS slot_locked_until_time
  FROM (SELECT 1) AS one
  LEFT JOIN users AS u ON u.email = $1
  LEFT JOIN slot ON true`;

const CLEAR = `DELETE FROM login_failures USING ${ASYNC_COMMIT} WHERE email = $1`;

/** Lockout state per email. Both statements on the sign-in path are prepared once per connection. */
export class PrismaLoginFailureStore implements LoginFailureStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(email: string): Promise<LoginFailures | undefined> {
    const { rows } = await this.pool.query<Row>({
      name: 'warden-login-failures-get',
      text: `SELECT email, failure_count, window_start_time, locked_until_time
             FROM login_failures WHERE email = $1`,
      values: [email],
    });
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async takeSlot(email: string, now: Date, policy: LockoutPolicy): Promise<FailureSlot> {
    // A refused slot reads the lock's end; a success or the sweeper may delete the row in between.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { rows } = await this.pool.query<Row>({
        name: 'warden-login-failures-take-slot',
        text: TAKE_SLOT,
        values: [email, now, policy.maxFailures, policy.windowMs],
      });
      if (rows[0]) return { taken: true, failures: fromRow(rows[0]) };
      const current = await this.get(email);
      if (current) {
        return {
          taken: false,
          lockedUntilTime: new Date(current.windowStartTime.getTime() + policy.windowMs),
        };
      }
    }
    throw new Error('login failures of one email are being taken and cleared concurrently');
  }

  async clear(email: string): Promise<void> {
    await this.pool.query({
      name: 'warden-login-failures-clear',
      text: CLEAR,
      values: [email],
    });
  }
}

type SlotAndUserRow = { [K in keyof UserRow]: UserRow[K] | null } & {
  failure_count: number | null;
  slot_window_start_time: Date | null;
  slot_locked_until_time: Date | null;
};

/** A sign-in's slot and account in one round trip (see TAKE_SLOT_AND_FIND). */
export class PgSignInLookup implements SignInLookup {
  private readonly failures: PrismaLoginFailureStore;

  constructor(private readonly pool: pg.Pool) {
    this.failures = new PrismaLoginFailureStore(pool);
  }

  async takeSlotAndFind(
    email: string,
    now: Date,
    policy: LockoutPolicy,
  ): Promise<{ slot: FailureSlot; user: User | undefined }> {
    const { rows } = await this.pool.query<SlotAndUserRow>({
      name: 'warden-sign-in-take-slot-and-find',
      text: TAKE_SLOT_AND_FIND,
      values: [email, now, policy.maxFailures, policy.windowMs],
    });
    const row = rows[0]!;
    const user = row.id === null ? undefined : userFromRow(row as UserRow);
    if (row.failure_count === null || row.slot_window_start_time === null) {
      // Refused: the lock's end is read as takeSlot reads it (a success or the sweeper may have
      // cleared the row meanwhile, and then the slot is taken after all).
      return { slot: await this.failures.takeSlot(email, now, policy), user };
    }
    const failures = fromRow({
      email,
      failure_count: row.failure_count,
      window_start_time: row.slot_window_start_time,
      locked_until_time: row.slot_locked_until_time,
    });
    return { slot: { taken: true, failures }, user };
  }
}

const fromRow = (row: Row): LoginFailures => ({
  email: row.email,
  failureCount: row.failure_count,
  windowStartTime: row.window_start_time,
  ...(row.locked_until_time ? { lockedUntilTime: row.locked_until_time } : {}),
});
