import { subjectOf, type CallContext } from '@warden/bus';
import { EVERYTHING, uncoveredGrants } from '../domain/index.js';
import { escalationDenied } from '../errors.js';
import type { GrantsHeld } from './ports.js';

/**
 * What the subject the bus authorized (the user, else the calling service's `service:<name>`)
 * holds: read before a change's transaction, since a caller not cached here costs one read.
 */
export const grantsOfCaller = async (
  held: GrantsHeld,
  ctx: CallContext,
): Promise<readonly string[]> => held.grantsHeldBy(subjectOf(ctx));

/** No one hands out more than it holds: `callerGrants` must cover every grant in `wanted`, else ESCALATION_DENIED. */
export function assertMayHandOut(
  callerGrants: readonly string[],
  wanted: readonly string[],
  what: string,
): void {
  const notHeld = uncoveredGrants(callerGrants, wanted);
  if (notHeld.length > 0) throw escalationDenied(what, notHeld);
}

/** The operator CLI: it runs with the database's credentials and could write any row itself. */
export const OPERATOR_HOLDS_EVERYTHING: GrantsHeld = { grantsHeldBy: () => [EVERYTHING] };
