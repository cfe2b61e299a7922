import { type CallContext, type UseCase, requireDeps } from '@warden/bus';
import { invalidArgument, Violations } from '@warden/errors';
import { displayNameProblem, normalizeDisplayName } from '../../domain/display-name.js';
import { checkExternalId, checkMetadata, normalizeExternalId } from '../../domain/metadata.js';
import { toView, updateProfile, type ProfileUpdate, type UserView } from '../../domain/user.js';
import { userNotFound } from '../../errors.js';
import { parseUserId } from '../../domain/user-id.js';
import { MANAGE_METADATA, type MetadataAccess } from '../metadata-access.js';
import type { Clock, UserRepository } from '../ports.js';
import { onUser } from '../user-access.js';

export interface UpdateUser {
  userId: string;
  displayName: string;
  /** Set when the request carried it (proto3 optional). */
  externalId?: string;
  metadata?: Record<string, string>;
  /** Proto field paths; empty means every updatable field given a non-empty value. */
  updateMask: string[];
}

const UPDATABLE_PATHS = ['display_name', 'external_id', 'metadata'] as const;
type UpdatablePath = (typeof UPDATABLE_PATHS)[number];

export class UpdateUserHandler implements UseCase<UpdateUser, UserView> {
  readonly name = 'UpdateUser';
  readonly access = onUser<UpdateUser>('user.update');

  constructor(
    private readonly deps: { users: UserRepository; clock: Clock; metadata: MetadataAccess },
  ) {
    requireDeps('UpdateUserHandler', deps);
  }

  async execute(cmd: UpdateUser, ctx: CallContext): Promise<UserView> {
    const id = parseUserId(cmd.userId);
    const paths = pathsToUpdate(cmd);
    const update = validUpdate(cmd, paths);
    if (paths.has('external_id') || paths.has('metadata'))
      await this.deps.metadata.require(MANAGE_METADATA, ctx, id);
    if (paths.size === 0) {
      const user = await this.deps.users.get(id);
      if (!user) throw userNotFound(id);
      return this.deps.metadata.view(toView(user), ctx);
    }
    const user = await this.deps.users.update(
      id,
      (current) => updateProfile(current, update, this.deps.clock.now()),
      ctx.traceparent,
    );
    return this.deps.metadata.view(toView(user), ctx);
  }
}

function validUpdate(cmd: UpdateUser, paths: Set<UpdatablePath>): ProfileUpdate {
  const violations = new Violations();
  const displayName = normalizeDisplayName(cmd.displayName);
  const problem = displayNameProblem(displayName);
  if (problem) violations.add('display_name', problem);
  const externalId = normalizeExternalId(cmd.externalId ?? '');
  checkExternalId(externalId, 'external_id', violations);
  checkMetadata(cmd.metadata ?? {}, 'metadata', violations);
  violations.throwIfAny();
  return {
    ...(paths.has('display_name') ? { displayName } : {}),
    ...(paths.has('external_id') ? { externalId } : {}),
    ...(paths.has('metadata') ? { metadata: { ...cmd.metadata } } : {}),
  };
}

function pathsToUpdate(cmd: UpdateUser): Set<UpdatablePath> {
  if (cmd.updateMask.length === 0) {
    const given = new Set<UpdatablePath>();
    if (cmd.displayName.trim() !== '') given.add('display_name');
    if (cmd.externalId !== undefined && cmd.externalId.trim() !== '') given.add('external_id');
    if (Object.keys(cmd.metadata ?? {}).length > 0) given.add('metadata');
    return given;
  }
  const paths = new Set<UpdatablePath>();
  for (const path of cmd.updateMask) {
    if (path === '*') UPDATABLE_PATHS.forEach((p) => paths.add(p));
    else if ((UPDATABLE_PATHS as readonly string[]).includes(path))
      paths.add(path as UpdatablePath);
    else {
      throw invalidArgument([
        {
          field: 'update_mask',
          description: `unknown or read-only path "${path.slice(0, 64)}"; allowed: ${UPDATABLE_PATHS.join(', ')}`,
        },
      ]);
    }
  }
  return paths;
}
