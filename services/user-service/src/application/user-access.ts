import { permissionOn, type Access } from '@warden/bus';
import { parseUserId } from '../domain/user-id.js';

/**
 * A permission checked on the user named in the request, owned by that user so `:own` grants
 * apply. A malformed id is INVALID_ARGUMENT before any permission question is asked.
 */
export const onUser = <I extends { userId: string }>(permission: string): Access<I> =>
  permissionOn(permission, (input) => {
    const id = parseUserId(input.userId);
    return { type: 'user', id, ownerId: id };
  });
