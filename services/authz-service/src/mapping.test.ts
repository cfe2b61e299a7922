import { authzEventsV1 } from '@warden/proto';
import { describe, expect, it } from 'vitest';
import { aRole, aUserId, T0 } from '../test/support/mothers.js';
import type { AuthzEvent } from './domain/index.js';
import { policyChangeOf, toEnvelope, toProtoAssignment } from './mapping.js';

describe('authz event mapping', () => {
  it('publishes a RoleAssigned on warden.authz.v1.role_assigned, about the subject', () => {
    const subjectId = aUserId();
    const expireTime = new Date(T0.getTime() + 60_000);
    const envelope = toEnvelope(
      {
        type: 'role_assigned',
        assignment: { subjectId, role: 'player', expireTime, createTime: T0 },
        occurTime: T0,
        revision: 7,
      },
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
    expect(envelope).toMatchObject({
      type: 'warden.authz.v1.role_assigned',
      source: 'authz-service',
      subjectId,
      time: T0,
    });
    expect(envelope.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(authzEventsV1.RoleAssigned.decode(envelope.payload)).toEqual({
      subjectId,
      role: 'player',
      expireTime,
      occurTime: T0,
      boundSessionId: '',
      revision: 7,
    });
    expect(policyChangeOf(envelope.type, envelope.payload)).toEqual({
      kind: 'subject',
      subjectId,
      revision: 7,
    });
  });

  it('carries the scope and session binding of an assignment, and the scope of a revocation', () => {
    const subjectId = aUserId();
    const sessionId = aUserId();
    const expireTime = new Date(T0.getTime() + 60_000);
    const scope = { type: 'guild', id: '42' };
    const assigned = toEnvelope({
      type: 'role_assigned',
      assignment: {
        subjectId,
        role: 'moderator',
        expireTime,
        createTime: T0,
        scope,
        boundSessionId: sessionId,
      },
      occurTime: T0,
    });
    expect(authzEventsV1.RoleAssigned.decode(assigned.payload)).toMatchObject({
      scope,
      boundSessionId: sessionId,
    });
    const revoked = toEnvelope({
      type: 'role_revoked',
      subjectId,
      role: 'moderator',
      scope,
      reason: 'SESSION_ENDED',
      occurTime: T0,
    });
    expect(authzEventsV1.RoleRevoked.decode(revoked.payload)).toMatchObject({
      scope,
      reason: authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_SESSION_ENDED,
    });
    expect(toProtoAssignment({ subjectId, role: 'moderator', createTime: T0 })).toMatchObject({
      scope: undefined,
      boundSessionId: '',
    });
  });

  it('carries the revoke reason', () => {
    const subjectId = aUserId();
    const envelope = toEnvelope({
      type: 'role_revoked',
      subjectId,
      role: 'admin',
      reason: 'EXPIRED',
      occurTime: T0,
    });
    expect(authzEventsV1.RoleRevoked.decode(envelope.payload).reason).toBe(
      authzEventsV1.RoleRevokeReason.ROLE_REVOKE_REASON_EXPIRED,
    );
    expect(policyChangeOf(envelope.type, envelope.payload)).toEqual({ kind: 'subject', subjectId });
  });

  it('sends role changes whole, with the changed fields, and reads them as catalogue changes', () => {
    const role = aRole({ name: 'moderator' });
    const updated = toEnvelope({
      type: 'role_updated',
      role,
      changed: ['permissions'],
      occurTime: T0,
    });
    expect(authzEventsV1.RoleUpdated.decode(updated.payload)).toMatchObject({
      role: { name: 'moderator', permissions: ['chat.mute', 'session.read'] },
      updateMask: ['permissions'],
    });
    for (const event of [toEnvelope({ type: 'role_created', role, occurTime: T0 }), updated]) {
      expect(policyChangeOf(event.type, event.payload)).toEqual({
        kind: 'catalogue',
        dropsAssignments: false,
      });
    }
    // A deleted role takes its assignments along: every cached subject must go.
    const deleted = toEnvelope({ type: 'role_deleted', name: 'moderator', occurTime: T0 });
    expect(policyChangeOf(deleted.type, deleted.payload)).toEqual({
      kind: 'catalogue',
      dropsAssignments: true,
    });
  });

  it('ignores subjects it does not know', () => {
    expect(policyChangeOf('warden.authz.v1.something_new', new Uint8Array())).toBeUndefined();
  });

  it('every event type a write records reads back as a policy change with its revision', () => {
    // A revision taken by an event the replicas cannot place would stall their watermark.
    const subjectId = aUserId();
    const role = aRole({ name: 'counted' });
    const events: AuthzEvent[] = [
      {
        type: 'role_assigned',
        assignment: { subjectId, role: 'player', createTime: T0 },
        occurTime: T0,
      },
      { type: 'role_revoked', subjectId, role: 'player', reason: 'EXPIRED', occurTime: T0 },
      { type: 'role_created', role, occurTime: T0 },
      { type: 'role_updated', role, changed: ['permissions'], occurTime: T0 },
      { type: 'role_deleted', name: role.name, occurTime: T0 },
    ];
    events.forEach((event, i) => {
      event.revision = 40 + i;
      const envelope = toEnvelope(event);
      expect(policyChangeOf(envelope.type, envelope.payload)?.revision).toBe(40 + i);
    });
  });
});
