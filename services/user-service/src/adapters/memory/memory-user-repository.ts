import type { MemoryIdempotencyStore } from '@warden/bus';
import type {
  AddOutcome,
  UserCursor,
  UserDirectory,
  UserListFilter,
  UserRepository,
} from '../../application/ports.js';
import { toView, type Change, type User, type UserView } from '../../domain/user.js';
import type { UserEvent } from '../../domain/user-events.js';
import { emailTaken, externalIdTaken, userNotFound } from '../../errors.js';
import type { MemoryLoginFailureStore } from './memory-login-failure-store.js';

export interface RecordedEvent {
  event: UserEvent;
  traceparent?: string;
}

/** In-memory twin of the Prisma user adapters; `outbox` records what would have been published. */
export class MemoryUserRepository implements UserRepository, UserDirectory {
  readonly outbox: RecordedEvent[] = [];
  private readonly users = new Map<string, User>();

  constructor(
    private readonly loginFailures?: MemoryLoginFailureStore,
    private readonly idempotency?: MemoryIdempotencyStore,
  ) {}

  eventsOfType<T extends UserEvent['type']>(type: T): Array<Extract<UserEvent, { type: T }>> {
    return this.outbox
      .map((r) => r.event)
      .filter((e): e is Extract<UserEvent, { type: T }> => e.type === type);
  }

  async add(change: Change, traceparent?: string): Promise<void> {
    const taken = this.takenBy(change.user);
    if (taken) throw taken === 'EMAIL_TAKEN' ? emailTaken() : externalIdTaken();
    this.users.set(change.user.id, change.user);
    this.record(change.events, traceparent);
  }

  async addMany(changes: readonly Change[], traceparent?: string): Promise<AddOutcome[]> {
    return changes.map((change) => {
      const taken = this.takenBy(change.user);
      if (taken) return taken;
      this.users.set(change.user.id, change.user);
      this.record(change.events, traceparent);
      return 'ADDED';
    });
  }

  private takenBy(user: User, except?: string): Exclude<AddOutcome, 'ADDED'> | undefined {
    const others = [...this.users.values()].filter((u) => u.id !== except);
    if (!except && others.some((u) => u.email === user.email)) return 'EMAIL_TAKEN';
    if (user.externalId && others.some((u) => u.externalId === user.externalId))
      return 'EXTERNAL_ID_TAKEN';
    return undefined;
  }

  async get(id: string): Promise<User | undefined> {
    return this.users.get(id);
  }

  async findByEmail(email: string): Promise<User | undefined> {
    return [...this.users.values()].find((u) => u.email === email);
  }

  async update(id: string, decide: (user: User) => Change, traceparent?: string): Promise<User> {
    const change = decide(this.require(id));
    if (this.takenBy(change.user, id)) throw externalIdTaken();
    this.users.set(id, change.user);
    this.record(change.events, traceparent);
    return change.user;
  }

  async remove(id: string, decide: (user: User) => UserEvent, traceparent?: string): Promise<void> {
    const user = this.require(id);
    const event = decide(user);
    this.users.delete(id);
    await this.loginFailures?.clear(user.email);
    await this.idempotency?.forgetOwner(id);
    this.record([event], traceparent);
  }

  async find(id: string): Promise<UserView | undefined> {
    const user = this.users.get(id);
    return user ? toView(user) : undefined;
  }

  async list(
    filter: UserListFilter,
    after: UserCursor | undefined,
    limit: number,
  ): Promise<UserView[]> {
    return [...this.users.values()]
      .filter((u) => u.email.startsWith(filter.emailPrefix))
      .filter((u) => !filter.status || u.status === filter.status)
      .filter((u) => !filter.externalId || u.externalId === filter.externalId)
      .filter((u) => Object.entries(filter.metadata ?? {}).every(([k, v]) => u.metadata[k] === v))
      .filter((u) => !after || compare(u, after) > 0)
      .sort(compare)
      .slice(0, limit)
      .map(toView);
  }

  private require(id: string): User {
    const user = this.users.get(id);
    if (!user) throw userNotFound(id);
    return user;
  }

  private record(events: UserEvent[], traceparent?: string): void {
    for (const event of events) this.outbox.push(traceparent ? { event, traceparent } : { event });
  }
}

/** The (create_time, id) order Postgres uses. */
const compare = (a: UserCursor, b: UserCursor): number =>
  a.createTime.getTime() - b.createTime.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
