import type { ClaimResult, IdempotencyRecord, IdempotencyStore } from '@warden/bus';
import type pg from 'pg';

/**
 * The bus's request_id records in `idempotency_keys` (each service's schema has the table; the DDL
 * below is what its migration creates). A claim is one atomic insert-or-take-over-if-expired.
 */
export const IDEMPOTENCY_DDL = `CREATE TABLE "idempotency_keys" (
    "key_hash" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "response" BYTEA,
    "create_time" TIMESTAMPTZ(3) NOT NULL,
    "owner_id" TEXT,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("key_hash")
);
CREATE INDEX "idempotency_keys_create_time_idx" ON "idempotency_keys"("create_time");
CREATE INDEX "idempotency_keys_owner_id_idx" ON "idempotency_keys"("owner_id");`;

/** Erasure: the records whose response is about a user, deleted in the transaction erasing them. */
export const FORGET_IDEMPOTENCY_OWNER_SQL = 'DELETE FROM idempotency_keys WHERE owner_id = $1';

/**
 * A claimed record's answer: $first the key hash, $first+1 the sealed response, $first+2 the owner
 * (null for none). Its own statement in `complete`, or a part of a caller's statement that commits
 * the answer with what it describes (session-service's sign-in), so the record's layout stays here.
 */
export const completeIdempotencySql = (first = 1): string =>
  `UPDATE idempotency_keys SET response = $${first + 1}::bytea, owner_id = $${first + 2}::text
  WHERE key_hash = $${first}::text`;

type Row = { key_hash: string; fingerprint: string; response: Buffer | null; create_time: Date };

export class PgIdempotencyStore implements IdempotencyStore {
  constructor(private readonly pool: pg.Pool) {}

  async claim(
    record: { keyHash: string; fingerprint: string; now: Date },
    ttlMs: number,
  ): Promise<ClaimResult> {
    const expiredBefore = new Date(record.now.getTime() - ttlMs);
    // A record released between our insert and our read leaves nothing to read: claim again.
    for (let attempt = 1; attempt <= 5; attempt++) {
      // Named: prepared once per connection, as this runs for every command with a request id.
      const inserted = await this.pool.query({
        name: 'warden-idempotency-claim',
        text: `INSERT INTO idempotency_keys (key_hash, fingerprint, response, create_time)
         VALUES ($1, $2, NULL, $3)
         ON CONFLICT (key_hash) DO UPDATE
           SET fingerprint = EXCLUDED.fingerprint, response = NULL, owner_id = NULL,
               create_time = EXCLUDED.create_time
           WHERE idempotency_keys.create_time <= $4`,
        values: [record.keyHash, record.fingerprint, record.now, expiredBefore],
      });
      if (inserted.rowCount === 1) return { claimed: true };
      const { rows } = await this.pool.query<Row>(
        'SELECT key_hash, fingerprint, response, create_time FROM idempotency_keys WHERE key_hash = $1',
        [record.keyHash],
      );
      if (rows[0]) return { claimed: false, existing: toRecord(rows[0]) };
    }
    throw new Error('idempotency key is being claimed and released concurrently');
  }

  async complete(keyHash: string, response: Uint8Array, ownerId?: string): Promise<void> {
    await this.pool.query({
      name: 'warden-idempotency-complete',
      text: completeIdempotencySql(),
      values: [keyHash, Buffer.from(response), ownerId ?? null],
    });
  }

  async renew(keyHash: string, now: Date): Promise<void> {
    await this.pool.query(
      'UPDATE idempotency_keys SET create_time = $2 WHERE key_hash = $1 AND response IS NULL',
      [keyHash, now],
    );
  }

  /** Deletes the records whose response is about `ownerId` (erasure); returns how many. */
  async forgetOwner(ownerId: string): Promise<number> {
    const { rowCount } = await this.pool.query(FORGET_IDEMPOTENCY_OWNER_SQL, [ownerId]);
    return rowCount ?? 0;
  }

  async release(keyHash: string): Promise<void> {
    await this.pool.query('DELETE FROM idempotency_keys WHERE key_hash = $1', [keyHash]);
  }

  /** Drops records created before `before` (workers keep the table to the replay window). */
  async prune(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query(
      'DELETE FROM idempotency_keys WHERE create_time < $1',
      [before],
    );
    return rowCount ?? 0;
  }
}

const toRecord = (row: Row): IdempotencyRecord => ({
  keyHash: row.key_hash,
  fingerprint: row.fingerprint,
  response: row.response === null ? null : new Uint8Array(row.response),
  createTime: row.create_time,
});
