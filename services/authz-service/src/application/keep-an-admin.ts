import { rolesGrantingEverything, type RoleCatalogue } from '../domain/index.js';
import { lastAdmin } from '../errors.js';
import type { AssignmentKey, CatalogueState } from './ports.js';

/**
 * Refuses a change (LAST_ADMIN) after which no one would hold `*` when someone did before, as
 * ZITADEL keeps its last IAM owner. `removed`: the assignment the change takes away, if any.
 */
export async function assertKeepsAnAdmin(
  state: CatalogueState,
  catalogues: { before: RoleCatalogue; after: RoleCatalogue },
  now: Date,
  what: string,
  removed?: AssignmentKey,
): Promise<void> {
  if (!(await state.hasActiveHolder(rolesGrantingEverything(catalogues.before), now))) return;
  const after = rolesGrantingEverything(catalogues.after);
  if (!(await state.hasActiveHolder(after, now, removed))) throw lastAdmin(what);
}

/** Whether a catalogue change can take `*` from someone: a role stops granting it. */
export const mayTakeEverything = (before: RoleCatalogue, after: RoleCatalogue): boolean => {
  const kept = new Set(rolesGrantingEverything(after));
  return rolesGrantingEverything(before).some((role) => !kept.has(role));
};
