/** Subjects are user ids (UUIDs) or service identities written `service:<name>`. */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SERVICE_SUBJECT = /^service:[a-z][a-z0-9-]{0,62}$/;

export const SUBJECT_RULE = 'must be a user id (UUID, lower-case) or service:<name>';

export const isSubjectId = (value: string): boolean =>
  USER_ID.test(value) || SERVICE_SUBJECT.test(value);

export const isUserSubject = (value: string): boolean => USER_ID.test(value);
