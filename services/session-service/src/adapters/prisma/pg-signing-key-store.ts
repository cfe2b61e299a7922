import { currentAuditScope } from '@warden/bus';
import { withTransaction } from '@warden/db';
import { auditEntry, insertOutboxThenCommit } from '@warden/events';
import type { Pool } from 'pg';
import type { PublicJwk } from '../../application/access-tokens.js';
import type { SigningKeyStore, StoredSigningKey } from '../../application/signing-keys.js';

interface KeyRow {
  kid: string;
  public_jwk: PublicJwk;
  sealed_private_key: Buffer;
  create_time: Date;
  retire_time: Date | null;
}

const COLUMNS = 'kid, public_jwk, sealed_private_key, create_time, retire_time';

const toKey = (row: KeyRow): StoredSigningKey => ({
  kid: row.kid,
  publicJwk: row.public_jwk,
  sealedPrivateKey: row.sealed_private_key,
  createTime: row.create_time,
  retireTime: row.retire_time,
});

/** The audit entry of a key change (keys publish no event): the kid, never key material. */
const keyAudit = (action: string, kid: string, details: Record<string, string> = {}) =>
  auditEntry({ action, target: { type: 'signing_key', id: kid }, details }, currentAuditScope());

/** Serializes rotations across replicas (an advisory lock id of this table's own). */
const ROTATION_LOCK = 7_140_001;

/** Access token signing keys in session-service's database, shared by every replica. */
export class PgSigningKeyStore implements SigningKeyStore {
  constructor(private readonly pool: Pool) {}

  async list(): Promise<StoredSigningKey[]> {
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT ${COLUMNS} FROM access_token_keys ORDER BY create_time DESC`,
    );
    return rows.map(toKey);
  }

  async rotate(fresh: StoredSigningKey, replacing: string | undefined): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [ROTATION_LOCK]);
      const { rows } = await client.query<{ kid: string }>(
        'SELECT kid FROM access_token_keys ORDER BY create_time DESC LIMIT 1',
      );
      if (rows[0]?.kid !== replacing) return false;
      await client.query(
        'UPDATE access_token_keys SET retire_time = $1 WHERE retire_time IS NULL',
        [fresh.createTime],
      );
      await client.query(
        `INSERT INTO access_token_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, NULL)`,
        [
          fresh.kid,
          JSON.stringify(fresh.publicJwk),
          Buffer.from(fresh.sealedPrivateKey),
          fresh.createTime,
        ],
      );
      await insertOutboxThenCommit(
        client,
        [],
        [keyAudit('signing_key.rotated', fresh.kid, replacing ? { replaced_kid: replacing } : {})],
      );
      return true;
    });
  }

  /** Deletes keys retired at or before `before` (their tokens have all lapsed); returns how many. */
  async purgeRetiredBefore(before: Date): Promise<number> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ kid: string }>(
        'DELETE FROM access_token_keys WHERE retire_time <= $1 RETURNING kid',
        [before],
      );
      await insertOutboxThenCommit(
        client,
        [],
        rows.map((row) => keyAudit('signing_key.deleted', row.kid)),
      );
      return rows.length;
    });
  }
}
