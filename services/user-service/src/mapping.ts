import { currentAuditScope } from '@warden/bus';
import { invalidArgument } from '@warden/errors';
import { envelopeFor, type EventEnvelope } from '@warden/events';
import { userEventsV1, userv1 } from '@warden/proto';
import { userAuditOf } from './audit-mapping.js';
import type { PasswordChangeReason, UserEvent } from './domain/user-events.js';
import type { UserStatus, UserView } from './domain/user.js';

const TO_PROTO: Record<UserStatus, userv1.UserStatus> = {
  ACTIVE: userv1.UserStatus.USER_STATUS_ACTIVE,
  DISABLED: userv1.UserStatus.USER_STATUS_DISABLED,
};

export const toProtoStatus = (status: UserStatus): userv1.UserStatus => TO_PROTO[status];

export const toProtoUser = (user: UserView): userv1.User => ({
  id: user.id,
  email: user.email,
  displayName: user.displayName,
  status: toProtoStatus(user.status),
  createTime: user.createTime,
  updateTime: user.updateTime,
  emailVerified: user.emailVerified,
  externalId: user.externalId,
  metadata: { ...user.metadata },
  mfaEnabled: user.mfaEnabled,
});

/** A status filter: UNSPECIFIED is "any"; numbers outside the enum are refused. */
export function fromProtoStatusFilter(status: userv1.UserStatus): UserStatus | undefined {
  switch (status) {
    case userv1.UserStatus.USER_STATUS_UNSPECIFIED:
      return undefined;
    case userv1.UserStatus.USER_STATUS_ACTIVE:
      return 'ACTIVE';
    case userv1.UserStatus.USER_STATUS_DISABLED:
      return 'DISABLED';
    default:
      throw invalidArgument([{ field: 'status', description: `unknown status ${String(status)}` }]);
  }
}

/** A second factor's oneof (totp_code | recovery_code): which one, and its code; none if neither. */
export function fromProtoSecondFactor(request: {
  totpCode?: string | undefined;
  recoveryCode?: string | undefined;
}): { kind: 'TOTP' | 'RECOVERY_CODE'; code: string } | undefined {
  if (request.totpCode !== undefined) return { kind: 'TOTP', code: request.totpCode };
  if (request.recoveryCode !== undefined)
    return { kind: 'RECOVERY_CODE', code: request.recoveryCode };
  return undefined;
}

const PASSWORD_CHANGE_REASON: Record<PasswordChangeReason, userEventsV1.PasswordChangeReason> = {
  CHANGE: userEventsV1.PasswordChangeReason.PASSWORD_CHANGE_REASON_CHANGE,
  RESET: userEventsV1.PasswordChangeReason.PASSWORD_CHANGE_REASON_RESET,
};

const userEnvelope = envelopeFor({
  source: 'user-service',
  subjectPrefix: 'warden.user.v1.',
  context: currentAuditScope,
});

/** A domain event as the protobuf envelope the outbox stores and the relay publishes. */
export const toEnvelope = (event: UserEvent, traceparent?: string): EventEnvelope =>
  userEnvelope(event.type, encodePayload(event), {
    subjectId: event.userId,
    time: event.occurTime,
    traceparent,
    audit: userAuditOf(event),
  });

function encodePayload(event: UserEvent): Uint8Array {
  switch (event.type) {
    case 'registered':
      // email and display_name: deprecated, always empty (events outlive erasure).
      return userEventsV1.UserRegistered.encode({
        userId: event.userId,
        email: '',
        displayName: '',
        occurTime: event.occurTime,
        ...(event.imported ? { imported: true } : {}),
      }).finish();
    case 'email_verified':
      return userEventsV1.EmailVerified.encode({
        userId: event.userId,
        occurTime: event.occurTime,
      }).finish();
    case 'updated':
      return userEventsV1.UserUpdated.encode({
        userId: event.userId,
        displayName: '',
        updateMask: event.updateMask,
        occurTime: event.occurTime,
      }).finish();
    case 'password_changed':
      return userEventsV1.UserPasswordChanged.encode({
        userId: event.userId,
        exceptSessionId: event.exceptSessionId,
        occurTime: event.occurTime,
        reason: PASSWORD_CHANGE_REASON[event.reason],
      }).finish();
    case 'disabled':
      return userEventsV1.UserDisabled.encode({
        userId: event.userId,
        reason: event.reason,
        occurTime: event.occurTime,
      }).finish();
    case 'enabled':
      return userEventsV1.UserEnabled.encode({
        userId: event.userId,
        reason: event.reason,
        occurTime: event.occurTime,
      }).finish();
    case 'deleted':
      return userEventsV1.UserDeleted.encode({
        userId: event.userId,
        occurTime: event.occurTime,
      }).finish();
    case 'mfa_enabled':
      return userEventsV1.MfaEnabled.encode({
        userId: event.userId,
        occurTime: event.occurTime,
        exceptSessionId: event.exceptSessionId,
      }).finish();
    case 'mfa_disabled':
      return userEventsV1.MfaDisabled.encode({
        userId: event.userId,
        occurTime: event.occurTime,
      }).finish();
  }
}

/**
 * An outbox payload written before v1.1 without the personal data it carried (email, display
 * name); undefined when there is nothing to take out. Run on the user's rows as they are erased.
 */
export function redactPayload(type: string, payload: Uint8Array): Uint8Array | undefined {
  switch (type) {
    case 'warden.user.v1.registered': {
      const event = userEventsV1.UserRegistered.decode(payload);
      if (!event.email && !event.displayName) return undefined;
      return userEventsV1.UserRegistered.encode({ ...event, email: '', displayName: '' }).finish();
    }
    case 'warden.user.v1.updated': {
      const event = userEventsV1.UserUpdated.decode(payload);
      if (!event.displayName) return undefined;
      return userEventsV1.UserUpdated.encode({ ...event, displayName: '' }).finish();
    }
    default:
      return undefined;
  }
}
