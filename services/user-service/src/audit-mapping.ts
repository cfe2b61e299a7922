import type { AuditFacts } from '@warden/events';
import type { CodePurpose } from './domain/one-time-code.js';
import type { UserEvent } from './domain/user-events.js';

/**
 * What the audit trail records for each user event: `user.<event>` on the user, with the reason
 * and field names it has. Never an email, a display name, a password, its hash, a code or a TOTP
 * secret: entries outlive DeleteUser, and admins of every tenant read them.
 */
export function userAuditOf(event: UserEvent): AuditFacts {
  const facts: AuditFacts = {
    action: `user.${event.type}`,
    target: { type: 'user', id: event.userId },
  };
  switch (event.type) {
    case 'registered':
      if (event.imported) facts.details = { imported: 'true' };
      break;
    case 'updated':
      facts.details = { update_mask: event.updateMask.join(',') };
      break;
    case 'password_changed':
      facts.reason = event.reason;
      if (event.exceptSessionId) facts.details = { kept_session_id: event.exceptSessionId };
      break;
    case 'mfa_enabled':
      if (event.exceptSessionId) facts.details = { kept_session_id: event.exceptSessionId };
      break;
    case 'disabled':
    case 'enabled':
      facts.reason = event.reason;
      break;
    default:
      break;
  }
  return facts;
}

/** Changes that publish no event. */
export const totpEnrollmentStarted = (userId: string): AuditFacts => ({
  action: 'user.totp_enrollment_started',
  target: { type: 'user', id: userId },
});

export const recoveryCodeUsed = (userId: string, left: number): AuditFacts => ({
  action: 'user.recovery_code_used',
  target: { type: 'user', id: userId },
  details: { recovery_codes_left: String(left) },
});

/** A one-time code issued (never the code): its purpose only. */
export const codeIssued = (userId: string, purpose: CodePurpose): AuditFacts => ({
  action: 'user.code_issued',
  target: { type: 'user', id: userId },
  details: { purpose },
});

/**
 * What DeleteUser erases from the trail: entries keep the user's pseudonymous id (who deleted
 * whom, when, stays answerable) but not the free-text reasons an admin wrote about the person.
 */
export const ERASE_AUDIT_REASONS_SQL = `UPDATE audit_events SET reason = ''
  WHERE target_id = $1 AND action IN ('user.disabled', 'user.enabled') AND reason <> ''`;
