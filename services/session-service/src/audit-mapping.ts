import type { AuditFacts } from '@warden/events';
import type { SessionEventKind } from './domain/session-events.js';
import type { Session } from './domain/session.js';

/**
 * What the audit trail records for each session event: `session.<event>` on the session, with its
 * user and how it was authenticated, and the end reason. Never the token or its hash, and not the
 * client's IP address or user agent (personal data that the trail would keep past erasure).
 */
export function sessionAuditOf(kind: SessionEventKind, session: Session): AuditFacts {
  const details: Record<string, string> = { user_id: session.userId };
  if (kind === 'started') {
    details.assurance_level = session.assuranceLevel;
    details.factors = session.factors.join(',');
  }
  return {
    action: `session.${kind}`,
    target: { type: 'session', id: session.id },
    ...((kind === 'ended' || kind === 'expired') && session.endReason
      ? { reason: session.endReason }
      : {}),
    details,
  };
}
