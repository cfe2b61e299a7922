import { subjectOf, type CallContext } from '@warden/bus';
import { EVERYTHING, uncoveredGrants } from '../domain/index.js';
import { escalationDenied } from '../errors.js';
import type { GrantsHeld } from './ports.js';

/**
 * No one hands out more than it holds: the subject the bus authorized (the user, else the calling
 * service's `service:<name>`) must cover every grant in `wanted`, else ESCALATION_DENIED.
 */
export function assertMayHandOut(
  held: GrantsHeld,
  ctx: CallContext,
  wanted: readonly string[],
  what: string,
): void {
  const notHeld = uncoveredGrants(held.grantsHeldBy(subjectOf(ctx)), wanted);
  if (notHeld.length > 0) throw escalationDenied(what, notHeld);
}

/** The operator CLI: it runs with the database's credentials and could write any row itself. */
export const OPERATOR_HOLDS_EVERYTHING: GrantsHeld = { grantsHeldBy: () => [EVERYTHING] };
