import { randomBytes } from 'node:crypto';

/** A lower-case name no other test file (or run) will pick: `t_user_3f9a1c2b`. */
export const uniqueName = (prefix: string): string => `${prefix}_${randomBytes(5).toString('hex')}`;
