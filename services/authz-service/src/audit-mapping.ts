import type { AuditFacts } from '@warden/events';
import type { AuthzEvent, Scope } from './domain/index.js';

const scopeText = (scope: Scope | undefined): Record<string, string> =>
  scope ? { scope: `${scope.type}:${scope.id}` } : {};

/**
 * What the audit trail records for each authz event: `role.<verb>` (`role_assigned` ->
 * `role.assigned`) on the subject for grants and revocations, on the role for catalogue changes;
 * the role, scope, expiry, bound session and revision as details, the revoke reason as reason.
 */
export function authzAuditOf(event: AuthzEvent): AuditFacts {
  const action = event.type.replace('_', '.');
  const revision: Record<string, string> =
    event.revision === undefined ? {} : { revision: String(event.revision) };
  switch (event.type) {
    case 'role_assigned': {
      const a = event.assignment;
      return {
        action,
        target: { type: 'subject', id: a.subjectId },
        details: {
          role: a.role,
          ...scopeText(a.scope),
          ...(a.expireTime ? { expire_time: a.expireTime.toISOString() } : {}),
          ...(a.boundSessionId ? { bound_session_id: a.boundSessionId } : {}),
          ...revision,
        },
      };
    }
    case 'role_revoked':
      return {
        action,
        target: { type: 'subject', id: event.subjectId },
        reason: event.reason,
        details: { role: event.role, ...scopeText(event.scope), ...revision },
      };
    case 'role_created':
      return {
        action,
        target: { type: 'role', id: event.role.name },
        details: {
          permissions: event.role.permissions.join(','),
          inherits: event.role.inherits.join(','),
          ...revision,
        },
      };
    case 'role_updated':
      return {
        action,
        target: { type: 'role', id: event.role.name },
        details: { update_mask: event.changed.join(','), ...revision },
      };
    case 'role_deleted':
      return { action, target: { type: 'role', id: event.name }, details: { ...revision } };
  }
}
