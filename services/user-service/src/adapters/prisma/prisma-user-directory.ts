import type { UserCursor, UserDirectory, UserListFilter } from '../../application/ports.js';
import type { UserView } from '../../domain/user.js';
import { Prisma, type PrismaClient } from './generated/client.js';

const WITHOUT_HASH = { passwordHash: true } as const;

interface UserViewRow extends Omit<UserView, 'externalId' | 'metadata'> {
  externalId: string | null;
  metadata: unknown;
}

/** The read side: never selects the password hash. */
export class PrismaUserDirectory implements UserDirectory {
  constructor(private readonly prisma: PrismaClient) {}

  async find(id: string): Promise<UserView | undefined> {
    const user = await this.prisma.user.findUnique({ where: { id }, omit: WITHOUT_HASH });
    return user ? toUserView(user) : undefined;
  }

  /**
   * Keyset pages in (create_time, id) order, from its index. external_id uses its unique index;
   * metadata pairs are one containment test (`metadata @> {...}`) that the GIN index
   * (jsonb_path_ops) serves. One statement, bounded by `limit`, whatever the filters.
   */
  async list(
    filter: UserListFilter,
    after: UserCursor | undefined,
    limit: number,
  ): Promise<UserView[]> {
    const where: Prisma.Sql[] = [];
    if (filter.emailPrefix)
      where.push(Prisma.sql`email LIKE ${`${escapeLike(filter.emailPrefix)}%`}`);
    if (filter.status) where.push(Prisma.sql`status = ${filter.status}::"UserStatus"`);
    if (filter.externalId) where.push(Prisma.sql`external_id = ${filter.externalId}`);
    if (filter.metadata && Object.keys(filter.metadata).length > 0)
      where.push(Prisma.sql`metadata @> ${JSON.stringify(filter.metadata)}::jsonb`);
    if (after) where.push(Prisma.sql`(create_time, id) > (${after.createTime}, ${after.id}::uuid)`);
    const rows = await this.prisma.$queryRaw<UserViewRow[]>`
      SELECT id::text AS id, email, display_name AS "displayName", status::text AS status,
             create_time AS "createTime", update_time AS "updateTime",
             email_verified AS "emailVerified", external_id AS "externalId", metadata,
             mfa_enabled AS "mfaEnabled"
      FROM users
      ${where.length > 0 ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty}
      ORDER BY create_time, id
      LIMIT ${limit}`;
    return rows.map(toUserView);
  }
}

const toUserView = (user: UserViewRow): UserView => ({
  ...user,
  externalId: user.externalId ?? '',
  metadata: user.metadata as Record<string, string>,
});

/** `_`, `%` and `\` in a prefix must match only themselves (LIKE's default escape is `\`). */
const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&');
