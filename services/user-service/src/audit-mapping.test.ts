import { inAuditScope } from '@warden/bus';
import { describe, expect, it } from 'vitest';
import {
  codeIssued,
  recoveryCodeUsed,
  totpEnrollmentStarted,
  userAuditOf,
} from './audit-mapping.js';
import type { UserEvent } from './domain/user-events.js';
import { toEnvelope } from './mapping.js';

const occurTime = new Date('2026-02-03T04:05:06.789Z');
const userId = '0190c7a6-1e1b-7c3d-9f00-0123456789ab';
const sessionId = '0190c7a6-1e1b-7c3d-9f00-0000000000ee';

const EVENTS: Array<[UserEvent, string, Partial<ReturnType<typeof userAuditOf>>]> = [
  [{ type: 'registered', userId, occurTime }, 'user.registered', {}],
  [
    { type: 'registered', userId, occurTime, imported: true },
    'user.registered',
    { details: { imported: 'true' } },
  ],
  [{ type: 'email_verified', userId, occurTime }, 'user.email_verified', {}],
  [
    { type: 'updated', userId, updateMask: ['display_name', 'metadata'], occurTime },
    'user.updated',
    { details: { update_mask: 'display_name,metadata' } },
  ],
  [
    { type: 'password_changed', userId, exceptSessionId: sessionId, reason: 'CHANGE', occurTime },
    'user.password_changed',
    { reason: 'CHANGE', details: { kept_session_id: sessionId } },
  ],
  [
    { type: 'password_changed', userId, exceptSessionId: '', reason: 'RESET', occurTime },
    'user.password_changed',
    { reason: 'RESET' },
  ],
  [{ type: 'disabled', userId, reason: 'fraud', occurTime }, 'user.disabled', { reason: 'fraud' }],
  [{ type: 'enabled', userId, reason: 'appeal', occurTime }, 'user.enabled', { reason: 'appeal' }],
  [{ type: 'deleted', userId, occurTime }, 'user.deleted', {}],
  [
    { type: 'mfa_enabled', userId, exceptSessionId: sessionId, occurTime },
    'user.mfa_enabled',
    { details: { kept_session_id: sessionId } },
  ],
  [{ type: 'mfa_enabled', userId, exceptSessionId: '', occurTime }, 'user.mfa_enabled', {}],
  [{ type: 'mfa_disabled', userId, occurTime }, 'user.mfa_disabled', {}],
];

describe('userAuditOf', () => {
  it.each(EVENTS)('records %j as %s on the user', (event, action, extra) => {
    expect(userAuditOf(event)).toEqual({
      action,
      target: { type: 'user', id: userId },
      ...extra,
    });
  });

  it('names changes without an event by what they did, never the secret or code', () => {
    expect(totpEnrollmentStarted(userId)).toEqual({
      action: 'user.totp_enrollment_started',
      target: { type: 'user', id: userId },
    });
    expect(recoveryCodeUsed(userId, 7).details).toEqual({ recovery_codes_left: '7' });
    expect(codeIssued(userId, 'EMAIL_VERIFICATION').details).toEqual({
      purpose: 'EMAIL_VERIFICATION',
    });
  });
});

describe('a user event envelope', () => {
  it('carries its audit entry and the actor of the call it was made in', () => {
    const scope = {
      actor: { type: 'USER' as const, id: userId, viaService: 'gateway' },
      requestId: 'req-7',
    };
    const env = inAuditScope(scope, () =>
      toEnvelope({ type: 'disabled', userId, reason: 'fraud', occurTime }),
    );
    expect(env.actor).toBe(`user:${userId}`);
    expect(env.requestId).toBe('req-7');
    expect(env.audit).toMatchObject({
      actor: scope.actor,
      action: 'user.disabled',
      eventId: env.id,
      requestId: 'req-7',
    });
  });

  it('is a system change outside any call', () => {
    const env = toEnvelope({ type: 'deleted', userId, occurTime });
    expect(env.actor).toBe('system');
    expect(env.audit?.actor.type).toBe('SYSTEM');
  });
});
