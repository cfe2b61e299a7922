import type pg from 'pg';
import type { LoginFailureStore } from '../../application/ports.js';
import type { LoginFailures } from '../../domain/login-failures.js';
import { isUniqueViolation, type PrismaClient } from './prisma-client.js';

type Row = {
  email: string;
  failure_count: number;
  window_start_time: Date;
  locked_until_time: Date | null;
};

/** Lockout state per email. get(), asked on every sign-in, is a prepared statement on pg. */
export class PrismaLoginFailureStore implements LoginFailureStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly pool: pg.Pool,
  ) {}

  async get(email: string): Promise<LoginFailures | undefined> {
    const { rows } = await this.pool.query<Row>({
      name: 'warden-login-failures-get',
      text: `SELECT email, failure_count, window_start_time, locked_until_time
             FROM login_failures WHERE email = $1`,
      values: [email],
    });
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async update(
    email: string,
    next: (current: LoginFailures | undefined) => LoginFailures,
  ): Promise<LoginFailures> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.updateOnce(email, next);
      } catch (error) {
        // Two first failures raced to insert: the loser retries and now finds the row to lock.
        if (!isUniqueViolation(error) || attempt >= 3) throw error;
      }
    }
  }

  async clear(email: string): Promise<void> {
    await this.prisma.loginFailure.deleteMany({ where: { email } });
  }

  private updateOnce(
    email: string,
    next: (current: LoginFailures | undefined) => LoginFailures,
  ): Promise<LoginFailures> {
    return this.prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<Row[]>`
        SELECT email, failure_count, window_start_time, locked_until_time
        FROM login_failures WHERE email = ${email} FOR UPDATE`;
      const updated = next(row ? fromRow(row) : undefined);
      const data = {
        failureCount: updated.failureCount,
        windowStartTime: updated.windowStartTime,
        lockedUntilTime: updated.lockedUntilTime ?? null,
      };
      if (row) await tx.loginFailure.update({ where: { email }, data });
      else await tx.loginFailure.create({ data: { email, ...data } });
      return updated;
    });
  }
}

const fromRow = (row: Row): LoginFailures => ({
  email: row.email,
  failureCount: row.failure_count,
  windowStartTime: row.window_start_time,
  ...(row.locked_until_time ? { lockedUntilTime: row.locked_until_time } : {}),
});
