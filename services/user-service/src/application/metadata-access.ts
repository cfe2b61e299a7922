import { requireDeps, subjectOf, type CallContext, type PermissionChecker } from '@warden/bus';
import { isPublicKey, publicMetadata } from '../domain/metadata.js';
import type { UserView } from '../domain/user.js';
import { missingPermission } from '../errors.js';

export const READ_METADATA = 'user.read_metadata';
export const MANAGE_METADATA = 'user.manage_metadata';

/**
 * The metadata visibility rule: `public.` keys go to whoever may read the user; the others need
 * `user.read_metadata` (admins), and writing external_id or metadata needs `user.manage_metadata`.
 * Asked of authz (cached) only when it matters.
 */
export class MetadataAccess {
  constructor(private readonly deps: { authorizer: PermissionChecker }) {
    requireDeps('MetadataAccess', deps);
  }

  /** The user as this caller may see it. */
  async view(user: UserView, ctx: CallContext): Promise<UserView> {
    if (Object.keys(user.metadata).every(isPublicKey)) return user;
    if (await this.may(READ_METADATA, ctx, user.id)) return user;
    return { ...user, metadata: publicMetadata(user.metadata) };
  }

  /** Users as this caller may see them: one question for the whole page. */
  async viewAll(users: UserView[], ctx: CallContext): Promise<UserView[]> {
    if (users.every((u) => Object.keys(u.metadata).every(isPublicKey))) return users;
    if (await this.may(READ_METADATA, ctx)) return users;
    return users.map((u) => ({ ...u, metadata: publicMetadata(u.metadata) }));
  }

  /** PERMISSION_DENIED unless the caller holds `permission` (on the user, when given). */
  async require(permission: string, ctx: CallContext, userId?: string): Promise<void> {
    if (!(await this.may(permission, ctx, userId))) throw missingPermission(permission);
  }

  private async may(permission: string, ctx: CallContext, userId?: string): Promise<boolean> {
    const resource = userId ? { type: 'user', id: userId, ownerId: userId } : { type: 'user' };
    const { authorizer } = this.deps;
    const level = ctx.user?.assuranceLevel;
    return (await authorizer.check(subjectOf(ctx), permission, resource, level, ctx.minRevision))
      .allowed;
  }
}
