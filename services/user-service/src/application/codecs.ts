import type { UserView } from '../domain/user.js';

/** Bytes of a UserView for the idempotency store (a replay returns exactly the first response). */
export const encodeUserView = (view: UserView): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(view));

export function decodeUserView(bytes: Uint8Array): UserView {
  const raw = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  return {
    id: raw.id as string,
    email: raw.email as string,
    displayName: raw.displayName as string,
    status: raw.status as UserView['status'],
    createTime: new Date(raw.createTime as string),
    updateTime: new Date(raw.updateTime as string),
    // Records written before v1.1 lack these: a registration's defaults.
    emailVerified: (raw.emailVerified as boolean | undefined) ?? false,
    externalId: (raw.externalId as string | undefined) ?? '',
    metadata: (raw.metadata as Record<string, string> | undefined) ?? {},
    mfaEnabled: (raw.mfaEnabled as boolean | undefined) ?? false,
  };
}
