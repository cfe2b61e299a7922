import { withTransaction } from '@warden/db';
import { currentAuditScope } from '@warden/bus';
import { auditEntry, insertOutboxThenCommit, type AuditEntry } from '@warden/events';
import type pg from 'pg';
import type { SecretSealer, TotpFactorRepository } from '../../application/ports.js';
import type { MfaHolder, TotpChange, TotpFactor } from '../../domain/totp-factor.js';
import { isUserId } from '../../domain/user-id.js';
import { userNotFound } from '../../errors.js';
import { recoveryCodeUsed, totpEnrollmentStarted } from '../../audit-mapping.js';
import { toEnvelope } from '../../mapping.js';

/** The user, locked: every writer of a user's factor takes this lock first, so they queue. */
const LOCK_HOLDER_SQL = 'SELECT id, email, status, mfa_enabled FROM users WHERE id = $1 FOR UPDATE';
const FACTOR_SQL = `SELECT secret_sealed, confirmed, last_used_step, recovery_code_hashes,
  create_time, update_time FROM totp_factors WHERE user_id = $1`;
const SAVE_FACTOR_SQL = `INSERT INTO totp_factors
  (user_id, secret_sealed, confirmed, last_used_step, recovery_code_hashes, create_time, update_time)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
  ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed,
    confirmed = EXCLUDED.confirmed, last_used_step = EXCLUDED.last_used_step,
    recovery_code_hashes = EXCLUDED.recovery_code_hashes, create_time = EXCLUDED.create_time,
    update_time = EXCLUDED.update_time`;
const DELETE_FACTOR_SQL = 'DELETE FROM totp_factors WHERE user_id = $1';
const SET_MFA_ENABLED_SQL = 'UPDATE users SET mfa_enabled = $2, update_time = $3 WHERE id = $1';

/**
 * The audit entries of factor changes that publish no event: a TOTP enrolment started (a new
 * pending secret) and a recovery code used up. A TOTP code's replay guard moving on is not one:
 * the session its sign-in starts is recorded by session-service.
 */
function unannounced<T>(
  userId: string,
  current: TotpFactor | undefined,
  change: TotpChange<T>,
  traceparent: string | undefined,
): AuditEntry[] {
  const next = change.factor;
  if (change.events.length > 0 || !next) return [];
  const entry = (facts: Parameters<typeof auditEntry>[0]) => [
    auditEntry(facts, currentAuditScope(), { traceparent }),
  ];
  if (!next.confirmed && next.secret !== current?.secret)
    return entry(totpEnrollmentStarted(userId));
  if (current && next.recoveryCodeHashes.length < current.recoveryCodeHashes.length)
    return entry(recoveryCodeUsed(userId, next.recoveryCodeHashes.length));
  return [];
}

interface FactorRow {
  secret_sealed: string;
  confirmed: boolean;
  last_used_step: number;
  recovery_code_hashes: string[];
  create_time: Date;
  update_time: Date;
}

/**
 * TOTP factors in Postgres (`totp_factors`, Prisma's schema), on pg: one transaction per change
 * that locks the user, reads the factor, and writes the factor, `users.mfa_enabled` and the outbox
 * together. Secrets are sealed by the SecretSealer (the user id bound in), never stored plain.
 */
export class PrismaTotpFactorRepository implements TotpFactorRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly box: SecretSealer,
  ) {}

  update<T>(
    userId: string,
    decide: (holder: MfaHolder, factor: TotpFactor | undefined) => TotpChange<T>,
    traceparent?: string,
  ): Promise<T> {
    if (!isUserId(userId)) return Promise.reject(userNotFound(userId));
    return withTransaction(this.pool, async (client) => {
      const holders = await client.query<{
        id: string;
        email: string;
        status: MfaHolder['status'];
        mfa_enabled: boolean;
      }>(LOCK_HOLDER_SQL, [userId]);
      const row = holders.rows[0];
      if (!row) throw userNotFound(userId);
      const holder: MfaHolder = {
        id: row.id,
        email: row.email,
        status: row.status,
        mfaEnabled: row.mfa_enabled,
      };
      const factors = await client.query<FactorRow>(FACTOR_SQL, [userId]);
      const current = factors.rows[0] && this.fromRow(userId, factors.rows[0]);
      const change = decide(holder, current);
      if (change.factor) {
        const f = change.factor;
        await client.query(SAVE_FACTOR_SQL, [
          userId,
          this.box.seal(f.secret, userId),
          f.confirmed,
          f.lastUsedStep,
          JSON.stringify(f.recoveryCodeHashes),
          f.createTime,
          f.updateTime,
        ]);
      } else if (current) {
        await client.query(DELETE_FACTOR_SQL, [userId]);
      }
      const mfa = change.mfaEnabled;
      if (mfa && mfa.value !== holder.mfaEnabled)
        await client.query(SET_MFA_ENABLED_SQL, [userId, mfa.value, mfa.time]);
      await insertOutboxThenCommit(
        client,
        change.events.map((event) => toEnvelope(event, traceparent)),
        unannounced(userId, current, change, traceparent),
      );
      return change.result;
    });
  }

  private fromRow(userId: string, row: FactorRow): TotpFactor {
    return {
      userId,
      secret: this.box.open(row.secret_sealed, userId),
      confirmed: row.confirmed,
      lastUsedStep: row.last_used_step,
      recoveryCodeHashes: row.recovery_code_hashes,
      createTime: row.create_time,
      updateTime: row.update_time,
    };
  }
}
