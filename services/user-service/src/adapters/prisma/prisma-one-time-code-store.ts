import { withTransaction } from '@warden/db';
import { currentAuditScope } from '@warden/bus';
import { auditColumns, auditEntry, insertOutboxThenCommit } from '@warden/events';
import type pg from 'pg';
import type { CodeOwner, OneTimeCodeStore } from '../../application/ports.js';
import { judgeCode, type CodePurpose, type CodeVerdict } from '../../domain/one-time-code.js';
import type { Change, User } from '../../domain/user.js';
import { isUserId } from '../../domain/user-id.js';
import { codeIssued } from '../../audit-mapping.js';
import { toEnvelope } from '../../mapping.js';
import { updateValues, userFromRow, type UserRow } from './prisma-user-repository.js';
import {
  COUNT_CODE_ATTEMPT_SQL,
  DELETE_CODE_SQL,
  ISSUE_CODE_FOR_EMAIL_SQL,
  ISSUE_CODE_FOR_USER_SQL,
  LOCK_CODE_SQL,
  LOCK_USER_BY_EMAIL_SQL,
  LOCK_USER_SQL,
  UPDATE_USER_SQL,
} from './user-sql.js';

interface CodeRow {
  code_hash: Buffer;
  expire_time: Date;
  attempts: number;
}

/**
 * One-time codes in `user_codes`, next to the user they belong to (erased with it). Redeeming
 * locks the user row, then the code row, so concurrent redemptions of one code apply one after the
 * other: only the first MATCH finds the code.
 */
export class PrismaOneTimeCodeStore implements OneTimeCodeStore {
  constructor(private readonly pool: pg.Pool) {}

  async issue(
    owner: CodeOwner,
    purpose: CodePurpose,
    code: { codeHash: Uint8Array; expireTime: Date },
    now: Date,
  ): Promise<boolean> {
    const hash = Buffer.from(code.codeHash);
    if ('email' in owner) {
      // One statement either way: an unknown email costs the same round trip and index lookup.
      // The audit entry's target is the user the statement finds ('' stands in until then).
      const audit = auditEntry(codeIssued('', purpose), currentAuditScope());
      const result = await this.pool.query<{ issued: number }>(ISSUE_CODE_FOR_EMAIL_SQL, [
        owner.email,
        purpose,
        hash,
        code.expireTime,
        now,
        ...auditColumns([audit]),
      ]);
      return result.rows[0]?.issued === 1;
    }
    if (!isUserId(owner.userId)) return false;
    return withTransaction(this.pool, async (client) => {
      // Locked so a concurrent DeleteUser cannot slip between the check and the insert.
      const { rows } = await client.query(LOCK_USER_SQL, [owner.userId]);
      if (!rows[0]) return false;
      await client.query(ISSUE_CODE_FOR_USER_SQL, [
        owner.userId,
        purpose,
        hash,
        code.expireTime,
        now,
      ]);
      await insertOutboxThenCommit(
        client,
        [],
        [auditEntry(codeIssued(owner.userId, purpose), currentAuditScope())],
      );
      return true;
    });
  }

  redeem(
    owner: CodeOwner,
    purpose: CodePurpose,
    matches: (codeHash: Uint8Array) => boolean,
    now: Date,
    decide: (user: User) => Change,
    traceparent?: string,
  ): Promise<{ verdict: CodeVerdict; user?: User }> {
    return withTransaction(this.pool, async (client) => {
      const user = await lockOwner(client, owner);
      if (!user) return { verdict: { kind: 'ABSENT' } };
      const { rows } = await client.query<CodeRow>(LOCK_CODE_SQL, [user.id, purpose]);
      const row = rows[0];
      const verdict = judgeCode(
        row && { codeHash: row.code_hash, expireTime: row.expire_time, attempts: row.attempts },
        matches,
        now,
      );
      switch (verdict.kind) {
        case 'ABSENT':
          return { verdict, user };
        case 'WRONG':
          if (verdict.burn) await client.query(DELETE_CODE_SQL, [user.id, purpose]);
          else await client.query(COUNT_CODE_ATTEMPT_SQL, [user.id, purpose, verdict.attempts]);
          return { verdict, user };
        case 'EXPIRED':
          await client.query(DELETE_CODE_SQL, [user.id, purpose]);
          return { verdict, user };
        case 'MATCH': {
          await client.query(DELETE_CODE_SQL, [user.id, purpose]);
          const change = decide(user);
          if (change.user !== user) await client.query(UPDATE_USER_SQL, updateValues(change.user));
          await insertOutboxThenCommit(
            client,
            change.events.map((event) => toEnvelope(event, traceparent)),
          );
          return { verdict, user: change.user };
        }
      }
    });
  }
}

async function lockOwner(client: pg.ClientBase, owner: CodeOwner): Promise<User | undefined> {
  if ('userId' in owner && !isUserId(owner.userId)) return undefined;
  const { rows } =
    'email' in owner
      ? await client.query<UserRow>(LOCK_USER_BY_EMAIL_SQL, [owner.email])
      : await client.query<UserRow>(LOCK_USER_SQL, [owner.userId]);
  return rows[0] && userFromRow(rows[0]);
}
