/** Where the checks below report: `Violations` of @warden/errors, or any collector. */
export interface ViolationSink {
  add(field: string, description: string): unknown;
}

/** Keys with this prefix are readable by whoever may read the user; the rest are admin-only. */
export const PUBLIC_PREFIX = 'public.';

export const METADATA_LIMITS = {
  maxEntries: 32,
  maxKeyLength: 64,
  maxValueLength: 1024,
  maxExternalIdLength: 256,
  /** key=value pairs one ListUsers call may filter on. */
  maxFilterPairs: 4,
} as const;

const KEY = /^[A-Za-z0-9._-]+$/;

export const isPublicKey = (key: string): boolean => key.startsWith(PUBLIC_PREFIX);

/** What a reader without `user.read_metadata` sees: the `public.` keys only. */
export function publicMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => isPublicKey(key)));
}

/** Adds a violation per broken limit of a metadata map under `field` (e.g. `metadata`). */
export function checkMetadata(
  metadata: Readonly<Record<string, string>>,
  field: string,
  violations: ViolationSink,
  maxEntries: number = METADATA_LIMITS.maxEntries,
): void {
  const entries = Object.entries(metadata);
  if (entries.length > maxEntries)
    violations.add(field, `must have at most ${maxEntries} entries, has ${entries.length}`);
  for (const [key, value] of entries) {
    const at = `${field}[${JSON.stringify(key.slice(0, METADATA_LIMITS.maxKeyLength))}]`;
    if (key.length === 0 || key.length > METADATA_LIMITS.maxKeyLength)
      violations.add(at, `key must be 1..${METADATA_LIMITS.maxKeyLength} characters`);
    else if (!KEY.test(key)) violations.add(at, 'key may hold only letters, digits, ., _ and -');
    if (value.length > METADATA_LIMITS.maxValueLength)
      violations.add(at, `value must be at most ${METADATA_LIMITS.maxValueLength} characters`);
  }
}

/** An external id is trimmed; empty means none. */
export const normalizeExternalId = (externalId: string): string => externalId.trim();

export function checkExternalId(
  externalId: string,
  field: string,
  violations: ViolationSink,
): void {
  if (externalId.length > METADATA_LIMITS.maxExternalIdLength)
    violations.add(field, `must be at most ${METADATA_LIMITS.maxExternalIdLength} characters`);
  else if (/[\u0000-\u001f\u007f]/.test(externalId))
    violations.add(field, 'must not contain control characters');
}
