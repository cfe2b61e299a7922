import { describe, expect, it } from 'vitest';
import { aRole, anAssignment, T0 } from '../test/support/mothers.js';
import { authzAuditOf } from './audit-mapping.js';

const subjectId = '0190c7a6-1e1b-7c3d-9f00-0123456789ab';

describe('authzAuditOf', () => {
  it('records a grant on the subject with its role, scope, expiry, bound session and revision', () => {
    const expireTime = new Date(T0.getTime() + 3_600_000);
    const assignment = anAssignment({
      subjectId,
      role: 'moderator',
      scope: { type: 'tenant', id: 'acme' },
      expireTime,
      boundSessionId: 'sess-1',
    });
    expect(
      authzAuditOf({ type: 'role_assigned', assignment, occurTime: T0, revision: 12 }),
    ).toEqual({
      action: 'role.assigned',
      target: { type: 'subject', id: subjectId },
      details: {
        role: 'moderator',
        scope: 'tenant:acme',
        expire_time: expireTime.toISOString(),
        bound_session_id: 'sess-1',
        revision: '12',
      },
    });
  });

  it('records a revocation with its reason', () => {
    expect(
      authzAuditOf({
        type: 'role_revoked',
        subjectId,
        role: 'player',
        reason: 'SESSION_ENDED',
        occurTime: T0,
      }),
    ).toEqual({
      action: 'role.revoked',
      target: { type: 'subject', id: subjectId },
      reason: 'SESSION_ENDED',
      details: { role: 'player' },
    });
  });

  it('records catalogue changes on the role', () => {
    const role = aRole({ name: 'moderator', permissions: ['chat.mute'], inherits: ['player'] });
    expect(authzAuditOf({ type: 'role_created', role, occurTime: T0 })).toEqual({
      action: 'role.created',
      target: { type: 'role', id: 'moderator' },
      details: { permissions: 'chat.mute', inherits: 'player' },
    });
    expect(
      authzAuditOf({ type: 'role_updated', role, changed: ['permissions'], occurTime: T0 }),
    ).toMatchObject({ action: 'role.updated', details: { update_mask: 'permissions' } });
    expect(authzAuditOf({ type: 'role_deleted', name: 'moderator', occurTime: T0 })).toEqual({
      action: 'role.deleted',
      target: { type: 'role', id: 'moderator' },
      details: {},
    });
  });
});
