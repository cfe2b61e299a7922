import { parseGrant } from './permission.js';
import type { RoleCatalogue } from './role-catalogue.js';
import { EVERYTHING } from './role.js';

/**
 * Does holding `held` allow everything `wanted` allows? `*` covers every grant, `<resource>.*`
 * every grant on that resource, an `:own` grant covers only `:own` grants, and an `@aal2` grant
 * only `@aal2` ones.
 */
export function covers(held: string, wanted: string): boolean {
  const h = parseGrant(held);
  const w = parseGrant(wanted);
  if (h.own && !w.own) return false;
  if (h.aal2 && !w.aal2) return false;
  if (h.resource !== EVERYTHING && h.resource !== w.resource) return false;
  return h.action === EVERYTHING || h.action === w.action;
}

/** The grants of `wanted` that no grant of `held` covers, in the order given. */
export const uncoveredGrants = (held: readonly string[], wanted: readonly string[]): string[] =>
  wanted.filter((grant) => !held.some((holding) => covers(holding, grant)));

/** Roles whose holders may do everything (`*` granted directly or inherited), sorted. */
export const rolesGrantingEverything = (catalogue: RoleCatalogue): string[] =>
  catalogue
    .list()
    .filter((role) => catalogue.grantsOf(role.name)!.grants.includes(EVERYTHING))
    .map((role) => role.name);
