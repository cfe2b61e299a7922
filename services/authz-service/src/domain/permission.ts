import { invalidGrant } from '../errors.js';

/**
 * Permissions are `<resource>.<action>`; a grant may also be `*` or `<resource>.*`, and may carry
 * the scope `:own` (allows only when the resource's owner is the subject).
 */
const SEGMENT = '[a-z][a-z0-9_]{0,63}';
const PERMISSION = new RegExp(`^${SEGMENT}\\.${SEGMENT}$`);
const GRANT = new RegExp(`^(?:\\*|${SEGMENT}\\.(?:\\*|${SEGMENT}))(?::own)?$`);

export const OWN_SCOPE = ':own';

export const isPermission = (value: string): boolean => PERMISSION.test(value);
export const isGrant = (value: string): boolean => GRANT.test(value);

export const PERMISSION_RULE =
  'must be <resource>.<action>: lower-case letters, digits and _, e.g. session.end';
export const GRANT_RULE =
  'must be <resource>.<action>, <resource>.* or *, optionally followed by :own (lower-case letters, digits and _)';

/** A grant taken apart: `resource` and `action` are `*` for wildcards. */
export interface ParsedGrant {
  text: string;
  resource: string;
  action: string;
  own: boolean;
}

export function parseGrant(text: string): ParsedGrant {
  if (!isGrant(text)) throw invalidGrant(text);
  const own = text.endsWith(OWN_SCOPE);
  const body = own ? text.slice(0, -OWN_SCOPE.length) : text;
  if (body === '*') return { text, resource: '*', action: '*', own };
  const dot = body.indexOf('.');
  return { text, resource: body.slice(0, dot), action: body.slice(dot + 1), own };
}

/** The resource part of a well-formed permission. */
export const resourceOf = (permission: string): string =>
  permission.slice(0, permission.indexOf('.'));
