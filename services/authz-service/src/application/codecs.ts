import type { IdempotencySpec } from '@warden/bus';
import type { Role, RoleAssignment, Scope } from '../domain/index.js';

/** How a use case's output is stored for idempotent replays (JSON, dates as ISO strings). */
type Codec<O> = Pick<IdempotencySpec<never, O>, 'encode' | 'decode'>;

/** A write's answer and the authz revision it took: a replay returns the first run's revision. */
export interface Revised<T> {
  value: T;
  revision: number;
}

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decodeJson = (bytes: Uint8Array): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(bytes));

/** An answer stored before revisions (the bare value) replays with revision 0. */
function revised<T>(
  raw: Record<string, unknown>,
  decode: (raw: Record<string, unknown>) => T,
): Revised<T> {
  return 'revision' in raw && 'value' in raw
    ? { value: decode(raw.value as Record<string, unknown>), revision: Number(raw.revision) }
    : { value: decode(raw), revision: 0 };
}

const assignmentFrom = (raw: Record<string, unknown>): RoleAssignment => ({
  subjectId: raw.subjectId as string,
  role: raw.role as string,
  ...(raw.expireTime ? { expireTime: new Date(raw.expireTime as string) } : {}),
  createTime: new Date(raw.createTime as string),
  ...(raw.scope ? { scope: raw.scope as Scope } : {}),
  ...(raw.boundSessionId ? { boundSessionId: raw.boundSessionId as string } : {}),
});

const roleFrom = (raw: Record<string, unknown>): Role => ({
  ...(raw as unknown as Role),
  createTime: new Date(raw.createTime as string),
  updateTime: new Date(raw.updateTime as string),
});

export const assignmentCodec: Codec<Revised<RoleAssignment>> = {
  encode: encodeJson,
  decode: (bytes) => revised(decodeJson(bytes), assignmentFrom),
};

export const roleCodec: Codec<Revised<Role>> = {
  encode: encodeJson,
  decode: (bytes) => revised(decodeJson(bytes), roleFrom),
};
