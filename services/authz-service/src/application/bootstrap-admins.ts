import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { isUserSubject } from '../domain/index.js';
import type { AuthzRepository } from './ports.js';

/** A user found by email, and whether they proved they own it (VerifyEmail, or imported so). */
export interface UserByEmail {
  id: string;
  emailVerified: boolean;
}

/** user-service, asked as this service: events carry no emails, so the bootstrap grant asks. */
export interface UserLookup {
  /** The user with this exact (normalized) email; undefined if none. */
  findUserByEmail(email: string): Promise<UserByEmail | undefined>;
  /** The user's normalized email; undefined when there is no such user (any more). */
  emailOf(userId: string): Promise<string | undefined>;
}

/** One `authz.bootstrap_admins` entry, with the key its grant is recorded under. */
export type BootstrapEntry = { key: string } & (
  { kind: 'user'; userId: string } | { kind: 'email'; email: string }
);

/** As user-service stores emails (NFC, lower case, punycode domain), so a listed one matches. */
export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase().normalize('NFC');
  const at = email.lastIndexOf('@');
  const ascii = at < 0 ? '' : domainToASCII(email.slice(at + 1));
  return ascii === '' ? email : `${email.slice(0, at)}@${ascii}`;
}

/** User ids as themselves; emails hashed, so the grant record holds no address. */
export function bootstrapEntries(list: readonly string[]): BootstrapEntry[] {
  const entries = new Map<string, BootstrapEntry>();
  for (const raw of list) {
    const value = normalizeEmail(raw);
    const entry: BootstrapEntry = isUserSubject(value)
      ? { kind: 'user', userId: value, key: `user:${value}` }
      : {
          kind: 'email',
          email: value,
          key: `email-sha256:${createHash('sha256').update(value).digest('hex')}`,
        };
    entries.set(entry.key, entry);
  }
  return [...entries.values()];
}

/**
 * Which not-yet-granted bootstrap entry a user matches. A grant is recorded once and never
 * undone, so the granted keys are remembered here: once every entry is granted, a registration
 * costs no lookup at all, and without entries it never did.
 *
 * An email entry matches only a user whose email is verified (`requireVerifiedEmail`, config
 * `authz.bootstrap_requires_verified_email`, true by default): else whoever registered the
 * address first would be admin. Such a user is granted when their `email_verified` event comes.
 * An entry by user id names the user exactly and needs nothing more.
 */
export class BootstrapAdmins {
  private granted: Set<string> | undefined;
  private readonly requireVerifiedEmail: boolean;

  constructor(
    readonly entries: readonly BootstrapEntry[],
    private readonly repository: Pick<AuthzRepository, 'bootstrapGrants'>,
    private readonly users: UserLookup,
    options: { requireVerifiedEmail?: boolean } = {},
  ) {
    this.requireVerifiedEmail = options.requireVerifiedEmail ?? true;
  }

  /** The key of the ungranted entry naming this user (by id, else by email), if any. */
  async entryFor(userId: string): Promise<string | undefined> {
    if (this.entries.length === 0) return undefined;
    const open = await this.ungranted();
    const byId = open.find((entry) => entry.kind === 'user' && entry.userId === userId);
    if (byId) return byId.key;
    // Asked by email (ListUsers), not by the new user's id (GetUser): the permission check of a
    // listing has no resource id, so user-service answers it from its authz cache every time.
    const owners = await Promise.all(
      open.map(async (entry) =>
        entry.kind === 'email' && (await this.userOf(entry)) === userId ? entry.key : undefined,
      ),
    );
    return owners.find((key) => key !== undefined);
  }

  /**
   * The user an entry names, if they exist: by id, or the user with the email once it is
   * verified (when that is required).
   */
  async userOf(entry: BootstrapEntry): Promise<string | undefined> {
    if (entry.kind === 'user')
      return (await this.users.emailOf(entry.userId)) === undefined ? undefined : entry.userId;
    const user = await this.users.findUserByEmail(entry.email);
    if (!user || (this.requireVerifiedEmail && !user.emailVerified)) return undefined;
    return user.id;
  }

  /** The entries not granted yet, as far as this process knows (the claim decides for sure). */
  async ungranted(): Promise<BootstrapEntry[]> {
    if (this.entries.length === 0) return [];
    this.granted ??= new Set(await this.repository.bootstrapGrants());
    const granted = this.granted;
    return this.entries.filter((entry) => !granted.has(entry.key));
  }

  /** After a claim, won or lost: the entry is granted from now on. */
  markGranted(key: string): void {
    this.granted?.add(key);
  }
}
