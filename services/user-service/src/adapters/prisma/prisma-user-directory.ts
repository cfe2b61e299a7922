import type { UserCursor, UserDirectory, UserListFilter } from '../../application/ports.js';
import type { UserView } from '../../domain/user.js';
import type { Prisma, PrismaClient } from './generated/client.js';

const WITHOUT_HASH = { passwordHash: true } as const;

/** The read side: never selects the password hash. */
export class PrismaUserDirectory implements UserDirectory {
  constructor(private readonly prisma: PrismaClient) {}

  async find(id: string): Promise<UserView | undefined> {
    return (await this.prisma.user.findUnique({ where: { id }, omit: WITHOUT_HASH })) ?? undefined;
  }

  async list(
    filter: UserListFilter,
    after: UserCursor | undefined,
    limit: number,
  ): Promise<UserView[]> {
    const where: Prisma.UserWhereInput[] = [];
    if (filter.emailPrefix) where.push({ email: { startsWith: escapeLike(filter.emailPrefix) } });
    if (filter.status) where.push({ status: filter.status });
    if (after) {
      where.push({
        OR: [
          { createTime: { gt: after.createTime } },
          { createTime: after.createTime, id: { gt: after.id } },
        ],
      });
    }
    return this.prisma.user.findMany({
      where: { AND: where },
      orderBy: [{ createTime: 'asc' }, { id: 'asc' }],
      take: limit,
      omit: WITHOUT_HASH,
    });
  }
}

/** Prisma passes `startsWith` to LIKE as is: `_` and `%` in a prefix must match only themselves. */
const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&');
