import type { UserRepository } from '../../application/ports.js';
import type { Change, User } from '../../domain/user.js';
import type { UserEvent } from '../../domain/user-events.js';
import { emailTaken, userNotFound } from '../../domain/user-errors.js';
import { outboxStatement, writeOutbox } from './outbox.js';
import { isUniqueViolation, type PrismaClient, type TransactionClient } from './prisma-client.js';

export class PrismaUserRepository implements UserRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async add(change: Change, traceparent?: string): Promise<void> {
    try {
      const create = this.prisma.user.create({ data: change.user });
      if (change.events.length === 0) await create;
      else
        await this.prisma.$transaction([
          create,
          outboxStatement(this.prisma, change.events, traceparent),
        ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
  }

  async get(id: string): Promise<User | undefined> {
    return (await this.prisma.user.findUnique({ where: { id } })) ?? undefined;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return (await this.prisma.user.findUnique({ where: { email } })) ?? undefined;
  }

  async update(id: string, decide: (user: User) => Change, traceparent?: string): Promise<User> {
    return this.prisma.$transaction(async (tx) => {
      const user = await lockUser(tx, id);
      const change = decide(user);
      if (change.user !== user) {
        const { displayName, passwordHash, status, updateTime } = change.user;
        await tx.user.update({
          where: { id },
          data: { displayName, passwordHash, status, updateTime },
        });
      }
      await writeOutbox(tx, change.events, traceparent);
      return change.user;
    });
  }

  async remove(id: string, decide: (user: User) => UserEvent, traceparent?: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const user = await lockUser(tx, id);
      const event = decide(user);
      await tx.user.delete({ where: { id } });
      await tx.loginFailure.deleteMany({ where: { email: user.email } });
      await writeOutbox(tx, [event], traceparent);
    });
  }
}

/** The user's row, locked until the transaction ends, so concurrent changes apply one after the other. */
async function lockUser(tx: TransactionClient, id: string): Promise<User> {
  const locked = await tx.$queryRaw<
    Array<{ id: string }>
  >`SELECT id FROM users WHERE id = ${id}::uuid FOR UPDATE`;
  const user = locked.length > 0 ? await tx.user.findUnique({ where: { id } }) : null;
  if (!user) throw userNotFound(id);
  return user;
}
