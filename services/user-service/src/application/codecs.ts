import type { UserView } from '../domain/user.js';

/** Bytes of a UserView for the idempotency store (a replay returns exactly the first response). */
export const encodeUserView = (view: UserView): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(view));

export function decodeUserView(bytes: Uint8Array): UserView {
  const raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string>;
  return {
    id: raw.id!,
    email: raw.email!,
    displayName: raw.displayName!,
    status: raw.status as UserView['status'],
    createTime: new Date(raw.createTime!),
    updateTime: new Date(raw.updateTime!),
  };
}
