import { rolesGrantingEverything, type RoleCatalogue } from '../domain/index.js';
import { lastAdmin } from '../errors.js';
import type { AuthzTransaction } from './ports.js';

/**
 * Runs `change` inside `tx` (after its catalogue lock) and refuses it, rolling back, when someone
 * held `*` before and no one does after, as ZITADEL keeps its last IAM owner.
 */
export async function keepingAnAdmin<T>(
  tx: AuthzTransaction,
  catalogues: { before: RoleCatalogue; after: RoleCatalogue },
  now: Date,
  what: string,
  change: () => Promise<T>,
): Promise<T> {
  const before = rolesGrantingEverything(catalogues.before);
  const after = rolesGrantingEverything(catalogues.after);
  const held = await tx.hasActiveHolder(before, now);
  const result = await change();
  if (held && !(await tx.hasActiveHolder(after, now))) throw lastAdmin(what);
  return result;
}

/** Whether a catalogue change can take `*` from someone: a role stops granting it. */
export const mayTakeEverything = (before: RoleCatalogue, after: RoleCatalogue): boolean => {
  const kept = new Set(rolesGrantingEverything(after));
  return rolesGrantingEverything(before).some((role) => !kept.has(role));
};
