import type pg from 'pg';
import type { MfaChallengeStore } from '../../application/ports.js';
import type { MfaChallenge } from '../../domain/mfa-challenge.js';

const ADD_SQL = `INSERT INTO mfa_challenges
  (id_hash, user_id, ip_address, user_agent, attempts, create_time, expire_time)
  VALUES ($1, $2, $3, $4, 0, $5, $6)`;
/** One statement: of concurrent attempts, at most `$3` are ever counted on a challenge. */
const ATTEMPT_SQL = `UPDATE mfa_challenges SET attempts = attempts + 1
  WHERE id_hash = $1 AND expire_time > $2 AND attempts < $3
  RETURNING id_hash, user_id, ip_address, user_agent, attempts, create_time, expire_time`;
/** Run by the session repository, in the transaction saving the session CompleteMfa makes. */
export const CONSUME_CHALLENGE_SQL = 'DELETE FROM mfa_challenges WHERE id_hash = $1';
const PURGE_SQL = 'DELETE FROM mfa_challenges WHERE expire_time < $1';
const DROP_FOR_USER_SQL = `DELETE FROM mfa_challenges
  WHERE user_id = $1 AND ($2::timestamptz IS NULL OR create_time <= $2)`;
/** A deleted user's challenges (their client data), with the erasure's transaction. */
export const DELETE_USER_CHALLENGES_SQL = 'DELETE FROM mfa_challenges WHERE user_id = $1';

interface Row {
  id_hash: string;
  user_id: string;
  ip_address: string;
  user_agent: string;
  attempts: number;
  create_time: Date;
  expire_time: Date;
}

/** MFA challenges in session-service's Postgres schema (`mfa_challenges`), on pg. */
export class PgMfaChallengeStore implements MfaChallengeStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(challenge: MfaChallenge): Promise<void> {
    await this.pool.query(ADD_SQL, [
      challenge.idHash,
      challenge.userId,
      challenge.client.ipAddress,
      challenge.client.userAgent,
      challenge.createTime,
      challenge.expireTime,
    ]);
  }

  async attempt(idHash: string, now: Date, maxAttempts: number): Promise<MfaChallenge | undefined> {
    const { rows } = await this.pool.query<Row>(ATTEMPT_SQL, [idHash, now, maxAttempts]);
    const row = rows[0];
    return (
      row && {
        idHash: row.id_hash,
        userId: row.user_id,
        client: { ipAddress: row.ip_address, userAgent: row.user_agent },
        attempts: row.attempts,
        createTime: row.create_time,
        expireTime: row.expire_time,
      }
    );
  }

  async purgeExpired(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query(PURGE_SQL, [before]);
    return rowCount ?? 0;
  }

  async dropForUser(userId: string, createdBy?: Date): Promise<number> {
    const { rowCount } = await this.pool.query(DROP_FOR_USER_SQL, [userId, createdBy ?? null]);
    return rowCount ?? 0;
  }
}
