import { invalidArgument } from '@warden/errors';
import { userv1 } from '@warden/proto';
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
