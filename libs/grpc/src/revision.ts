import { Metadata } from '@grpc/grpc-js';
import { invalidArgument } from '@warden/errors';

/**
 * Read-your-writes across services: an authz write's `revision` sent in this metadata key makes
 * every authz check of the call (and of the calls it makes downstream) answer from authz state at
 * least that new. The server kit reads it into `CallContext.minRevision`; `outgoingMetadata`
 * forwards it.
 */
export const MIN_REVISION_METADATA = 'x-warden-min-revision';

const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;

/** The metadata value as a revision: a positive integer, else INVALID_ARGUMENT naming the key. */
export function parseMinRevision(value: string): number {
  const revision = POSITIVE_INTEGER.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(revision))
    throw invalidArgument([
      {
        field: MIN_REVISION_METADATA,
        description: 'must be a positive integer: the revision an authz write returned',
      },
    ]);
  return revision;
}

/**
 * Sets `x-warden-min-revision` on `metadata` (a new one when absent) so the call reads the authz
 * write that returned `revision`: pass a write's revision to the next call, e.g.
 * `client.getUser(request, withMinRevision(revoke.revision), callback)`. 0 (no write) sets nothing.
 */
export function withMinRevision(revision: number, metadata = new Metadata()): Metadata {
  if (revision > 0) metadata.set(MIN_REVISION_METADATA, String(revision));
  return metadata;
}
