import { disableUser } from '../../domain/user.js';
import { onUser } from '../user-access.js';
import { SetUserStatusHandler, type SetUserStatus } from './set-user-status.js';

export class DisableUserHandler extends SetUserStatusHandler {
  readonly name = 'DisableUser';
  readonly access = onUser<SetUserStatus>('user.disable');
  protected readonly transition = disableUser;
}
