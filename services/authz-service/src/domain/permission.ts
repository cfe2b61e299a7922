import { invalidGrant } from '../errors.js';

/**
 * Permissions are `<resource>.<action>`; a grant may also be `*` or `<resource>.*`, may carry
 * the scope `:own` (allows only when the resource's owner is the subject), and may end in `@aal2`
 * (allows only when the subject's session was completed with a second factor: step-up).
 */
const SEGMENT = '[a-z][a-z0-9_]{0,63}';
const PERMISSION = new RegExp(`^${SEGMENT}\\.${SEGMENT}$`);
const GRANT = new RegExp(`^(?:\\*|${SEGMENT}\\.(?:\\*|${SEGMENT}))(?::own)?(?:@aal2)?$`);

export const OWN_SCOPE = ':own';
export const AAL2_SUFFIX = '@aal2';

export const isPermission = (value: string): boolean => PERMISSION.test(value);
export const isGrant = (value: string): boolean => GRANT.test(value);

export const PERMISSION_RULE =
  'must be <resource>.<action>: lower-case letters, digits and _, e.g. session.end';
export const GRANT_RULE =
  'must be <resource>.<action>, <resource>.* or *, optionally followed by :own and then @aal2 (lower-case letters, digits and _)';

/** A grant taken apart: `resource` and `action` are `*` for wildcards. */
export interface ParsedGrant {
  text: string;
  resource: string;
  action: string;
  own: boolean;
  /** `@aal2`: applies only at assurance level AAL2 (a session with a second factor). */
  aal2: boolean;
}

export function parseGrant(text: string): ParsedGrant {
  if (!isGrant(text)) throw invalidGrant(text);
  const aal2 = text.endsWith(AAL2_SUFFIX);
  const scoped = aal2 ? text.slice(0, -AAL2_SUFFIX.length) : text;
  const own = scoped.endsWith(OWN_SCOPE);
  const body = own ? scoped.slice(0, -OWN_SCOPE.length) : scoped;
  if (body === '*') return { text, resource: '*', action: '*', own, aal2 };
  const dot = body.indexOf('.');
  return { text, resource: body.slice(0, dot), action: body.slice(dot + 1), own, aal2 };
}

/** The resource part of a well-formed permission. */
export const resourceOf = (permission: string): string =>
  permission.slice(0, permission.indexOf('.'));
