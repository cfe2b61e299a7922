import type { IdempotencySpec } from '@warden/bus';
import type { Role, RoleAssignment } from '../domain/index.js';

/** How a use case's output is stored for idempotent replays (JSON, dates as ISO strings). */
type Codec<O> = Pick<IdempotencySpec<never, O>, 'encode' | 'decode'>;

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decodeJson = (bytes: Uint8Array): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(bytes));

export const assignmentCodec: Codec<RoleAssignment> = {
  encode: encodeJson,
  decode: (bytes) => {
    const raw = decodeJson(bytes);
    return {
      subjectId: raw.subjectId as string,
      role: raw.role as string,
      ...(raw.expireTime ? { expireTime: new Date(raw.expireTime as string) } : {}),
      createTime: new Date(raw.createTime as string),
    };
  },
};

export const roleCodec: Codec<Role> = {
  encode: encodeJson,
  decode: (bytes) => {
    const raw = decodeJson(bytes);
    return {
      ...(raw as unknown as Role),
      createTime: new Date(raw.createTime as string),
      updateTime: new Date(raw.updateTime as string),
    };
  },
};
