import type { CallContext, ResourceRef } from './context.js';

/**
 * How a use case is authorized:
 * - `service`: any authenticated service identity (RegisterUser, StartSession, ValidateSession);
 * - `services`: only the named services (VerifyCredentials, WatchSessions);
 * - `permission`: a permission checked by authz for the caller's subject, against a resource whose
 *   owner makes `:own` grants apply.
 */
export type Access<I> =
  | { kind: 'service' }
  | { kind: 'services'; names: readonly string[] }
  | {
      kind: 'permission';
      permission: string;
      resource?: (input: I, ctx: CallContext) => ResourceRef | Promise<ResourceRef>;
    };

export interface IdempotencySpec<I, O> {
  /** The caller's request_id, if it sent one. */
  key(input: I): string | undefined;
  /** Everything that makes two requests "the same"; may include secrets (it is keyed, never stored raw). */
  fingerprint(input: I): string;
  encode(output: O): Uint8Array;
  decode(bytes: Uint8Array): O;
  /** The user whose personal data the stored response holds: erasing that user deletes the record. */
  owner?(input: I, output: O): string | undefined;
}

/** One command or query: a name, its access rule, optional idempotency, and its handler. */
export interface UseCase<I, O> {
  readonly name: string;
  readonly access: Access<I>;
  readonly idempotency?: IdempotencySpec<I, O>;
  execute(input: I, ctx: CallContext): Promise<O>;
}
