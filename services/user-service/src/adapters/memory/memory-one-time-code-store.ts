import type { CodeOwner, OneTimeCodeStore } from '../../application/ports.js';
import {
  judgeCode,
  type CodePurpose,
  type CodeVerdict,
  type StoredCode,
} from '../../domain/one-time-code.js';
import type { Change, User } from '../../domain/user.js';
import type { MemoryUserRepository } from './memory-user-repository.js';

/** In-memory twin of PrismaOneTimeCodeStore, over a MemoryUserRepository. */
export class MemoryOneTimeCodeStore implements OneTimeCodeStore {
  /** By `${userId}/${purpose}`; tests read it to see what is stored (hashes only). */
  readonly codes = new Map<string, StoredCode>();

  constructor(private readonly users: MemoryUserRepository) {}

  async issue(
    owner: CodeOwner,
    purpose: CodePurpose,
    code: { codeHash: Uint8Array; expireTime: Date },
  ): Promise<boolean> {
    const user = await this.find(owner);
    if (!user || ('email' in owner && user.status !== 'ACTIVE')) return false;
    this.codes.set(`${user.id}/${purpose}`, { ...code, attempts: 0 });
    return true;
  }

  async redeem(
    owner: CodeOwner,
    purpose: CodePurpose,
    matches: (codeHash: Uint8Array) => boolean,
    now: Date,
    decide: (user: User) => Change,
    traceparent?: string,
  ): Promise<{ verdict: CodeVerdict; user?: User }> {
    const user = await this.find(owner);
    if (!user) return { verdict: { kind: 'ABSENT' } };
    const key = `${user.id}/${purpose}`;
    const stored = this.codes.get(key);
    const verdict = judgeCode(stored, matches, now);
    if (verdict.kind === 'WRONG' && !verdict.burn)
      this.codes.set(key, { ...stored!, attempts: verdict.attempts });
    else if (verdict.kind !== 'ABSENT') this.codes.delete(key);
    if (verdict.kind !== 'MATCH') return { verdict, user };
    return { verdict, user: await this.users.update(user.id, decide, traceparent) };
  }

  private async find(owner: CodeOwner): Promise<User | undefined> {
    return 'email' in owner ? this.users.findByEmail(owner.email) : this.users.get(owner.userId);
  }
}
