import { createHash } from 'node:crypto';
import {
  type CallContext,
  type IdempotencySpec,
  type UseCase,
  permissionOn,
  requireDeps,
} from '@warden/bus';
import { invalidArgument } from '@warden/errors';
import { displayNameProblem, normalizeDisplayName } from '../../domain/display-name.js';
import { emailProblem, normalizeEmail } from '../../domain/email.js';
import { checkExternalId, checkMetadata, normalizeExternalId } from '../../domain/metadata.js';
import { registerUser, type Change } from '../../domain/user.js';
import type { Clock, IdGenerator, ImportedHashFormats, UserRepository } from '../ports.js';
import { requestKey } from '../request-key.js';

export const MAX_IMPORT_ROWS = 1000;
/** Longer than any supported PHC string with bounded parameters. */
const MAX_HASH_LENGTH = 512;

export interface ImportedUserRow {
  email: string;
  displayName: string;
  passwordHash: string;
  emailVerified: boolean;
  externalId: string;
  metadata: Record<string, string>;
}

export interface ImportUsers {
  users: ImportedUserRow[];
  /** Idempotency key; empty for none. */
  requestId: string;
}

/** One row's outcome: a user id, or the reason it was refused. */
export type ImportRowResult =
  { index: number; userId: string } | { index: number; reason: string; message: string };

/**
 * Admin bulk import keeping foreign password hashes. Rows are independent: a refused row is
 * reported and the others go in, all of them in one transaction with one `registered` event each.
 */
export class ImportUsersHandler implements UseCase<ImportUsers, ImportRowResult[]> {
  readonly name = 'ImportUsers';
  readonly access = permissionOn<ImportUsers>('user.import', () => ({ type: 'user' }));
  // Every field of every row, each password hash as its SHA-256: the same request_id with other
  // hashes is another request (IDEMPOTENCY_KEY_REUSED), not the first import's results.
  readonly idempotency: IdempotencySpec<ImportUsers, ImportRowResult[]> = {
    key: (cmd) => requestKey(cmd.requestId),
    fingerprint: (cmd) =>
      JSON.stringify(
        cmd.users.map((u) => [
          normalizeEmail(u.email),
          normalizeDisplayName(u.displayName),
          normalizeExternalId(u.externalId),
          u.emailVerified,
          Object.entries(u.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          createHash('sha256').update(u.passwordHash).digest('base64url'),
        ]),
      ),
    encode: (results) => new TextEncoder().encode(JSON.stringify(results)),
    decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as ImportRowResult[],
  };

  constructor(
    private readonly deps: {
      users: UserRepository;
      formats: ImportedHashFormats;
      clock: Clock;
      ids: IdGenerator;
    },
  ) {
    requireDeps('ImportUsersHandler', deps);
  }

  async execute(cmd: ImportUsers, ctx: CallContext): Promise<ImportRowResult[]> {
    if (cmd.users.length === 0 || cmd.users.length > MAX_IMPORT_ROWS) {
      throw invalidArgument([
        { field: 'users', description: `must hold 1..${MAX_IMPORT_ROWS} rows` },
      ]);
    }
    const now = this.deps.clock.now();
    const results: ImportRowResult[] = [];
    const accepted: Array<{ index: number; change: Change }> = [];
    const emails = new Set<string>();
    const externalIds = new Set<string>();
    cmd.users.forEach((row, index) => {
      const refused = (reason: string, message: string) => results.push({ index, reason, message });
      const email = normalizeEmail(row.email);
      const externalId = normalizeExternalId(row.externalId);
      const displayName = normalizeDisplayName(row.displayName);
      const problem = rowProblem(email, displayName, externalId, row.metadata);
      if (problem) return refused('INVALID_ARGUMENT', problem);
      const hashProblem =
        row.passwordHash.length > MAX_HASH_LENGTH
          ? 'is too long'
          : this.deps.formats.problem(row.passwordHash);
      if (hashProblem) return refused('INVALID_HASH', `password_hash: ${hashProblem}`);
      if (emails.has(email)) return refused('EMAIL_TAKEN', 'email: repeats an earlier row');
      if (externalId && externalIds.has(externalId))
        return refused('EXTERNAL_ID_TAKEN', 'external_id: repeats an earlier row');
      emails.add(email);
      if (externalId) externalIds.add(externalId);
      accepted.push({
        index,
        change: registerUser({
          id: this.deps.ids.newId(),
          email,
          displayName,
          passwordHash: row.passwordHash,
          now,
          imported: { emailVerified: row.emailVerified, externalId, metadata: row.metadata },
        }),
      });
    });
    const outcomes = await this.deps.users.addMany(
      accepted.map((a) => a.change),
      ctx.traceparent,
    );
    accepted.forEach(({ index, change }, i) => {
      const outcome = outcomes[i];
      if (outcome === 'ADDED') results.push({ index, userId: change.user.id });
      else if (outcome === 'EXTERNAL_ID_TAKEN')
        results.push({ index, reason: outcome, message: 'external_id: belongs to another user' });
      else results.push({ index, reason: 'EMAIL_TAKEN', message: 'email: is registered already' });
    });
    return results.sort((a, b) => a.index - b.index);
  }
}

/** The first thing wrong with a row's fields, as `field: description`. */
function rowProblem(
  email: string,
  displayName: string,
  externalId: string,
  metadata: Record<string, string>,
): string | undefined {
  const found: string[] = [];
  const violations = {
    add: (field: string, description: string) => found.push(`${field}: ${description}`),
  };
  const emailIssue = emailProblem(email);
  if (emailIssue) violations.add('email', emailIssue);
  const nameIssue = displayNameProblem(displayName);
  if (nameIssue) violations.add('display_name', nameIssue);
  checkExternalId(externalId, 'external_id', violations);
  checkMetadata(metadata, 'metadata', violations);
  return found[0];
}
