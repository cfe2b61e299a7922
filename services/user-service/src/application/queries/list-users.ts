import { permissionOn, readPage, requireDeps } from '@warden/bus';
import type { Page, PageRequest, UseCase } from '@warden/bus';
import type { CallContext } from '@warden/bus';
import { Violations } from '@warden/errors';
import { MAX_EMAIL_LENGTH, normalizeEmail } from '../../domain/email.js';
import type { UserStatus, UserView } from '../../domain/user.js';
import {
  checkExternalId,
  checkMetadata,
  isPublicKey,
  METADATA_LIMITS,
  normalizeExternalId,
} from '../../domain/metadata.js';
import { READ_METADATA, type MetadataAccess } from '../metadata-access.js';
import type { UserDirectory, UserListFilter } from '../ports.js';

export interface ListUsers extends PageRequest {
  emailPrefix: string;
  status?: UserStatus;
  externalId?: string;
  /** key=value pairs every listed user's metadata holds. */
  metadata?: Record<string, string>;
}

export type UserPage = Page<'users', UserView>;

export class ListUsersHandler implements UseCase<ListUsers, UserPage> {
  readonly name = 'ListUsers';
  readonly readOnly = true;
  readonly access = permissionOn<ListUsers>('user.list');

  constructor(private readonly deps: { directory: UserDirectory; metadata: MetadataAccess }) {
    requireDeps('ListUsersHandler', deps);
  }

  async execute(query: ListUsers, ctx: CallContext): Promise<UserPage> {
    const emailPrefix = normalizeEmail(query.emailPrefix);
    const externalId = normalizeExternalId(query.externalId ?? '');
    const violations = new Violations();
    if (emailPrefix.length > MAX_EMAIL_LENGTH)
      violations.add('email_prefix', `must be at most ${MAX_EMAIL_LENGTH} characters`);
    checkExternalId(externalId, 'external_id', violations);
    const metadata = query.metadata ?? {};
    checkMetadata(metadata, 'metadata', violations, METADATA_LIMITS.maxFilterPairs);
    violations.throwIfAny();
    // Filtering on a private key would tell its values to whoever may not read them.
    if (!Object.keys(metadata).every(isPublicKey))
      await this.deps.metadata.require(READ_METADATA, ctx);
    const filter: UserListFilter = {
      emailPrefix,
      ...(query.status ? { status: query.status } : {}),
      externalId,
      metadata,
    };
    const metadataPairs = Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const { items: users, nextPageToken } = await readPage(query, {
      // Bound to the filters: reused with others, a token would skip rows.
      // (v1 tokens, without the v1.1 filters, stay valid.)
      scope: JSON.stringify([
        filter.emailPrefix,
        filter.status ?? '',
        ...(externalId || metadataPairs.length > 0 ? [externalId, metadataPairs] : []),
      ]),
      key: ['time', 'uuid'],
      read: (after, count) =>
        this.deps.directory.list(filter, after && { createTime: after[0], id: after[1] }, count),
      keyOf: (user) => [user.createTime, user.id],
    });
    return { users: await this.deps.metadata.viewAll(users, ctx), nextPageToken };
  }
}
