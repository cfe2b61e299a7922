import { enableUser } from '../../domain/user.js';
import { onUser } from '../user-access.js';
import { SetUserStatusHandler, type SetUserStatus } from './set-user-status.js';

export class EnableUserHandler extends SetUserStatusHandler {
  readonly name = 'EnableUser';
  readonly access = onUser<SetUserStatus>('user.enable');
  protected readonly transition = enableUser;
}
