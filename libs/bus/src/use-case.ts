import type { CallContext, ResourceRef } from './context.js';

/**
 * When a service-level use case carries a user principal too (a gateway forwarding a bearer
 * token), the user's own limits: its own data is open to it, anyone else's needs `permission`.
 */
export interface UserLimit<I> {
  /** The users whose data the call reaches; `undefined` stands for every user's. */
  owners(input: I): ReadonlyArray<string | undefined>;
  /** Needed, unscoped, to reach another user's data (checked for the user, not the service). */
  permission: string;
}

/**
 * How a use case is authorized:
 * - `service`: any authenticated service identity (RegisterUser, StartSession, ValidateSession);
 * - `services`: only the named services (VerifyCredentials, WatchSessions);
 * - `permission`: a permission checked by authz for the caller's subject, against a resource whose
 *   owner makes `:own` grants apply.
 * `onBehalf` keeps a service from being a confused deputy for the user whose token it carries.
 */
export type Access<I> =
  | { kind: 'service'; onBehalf?: UserLimit<I> }
  | { kind: 'services'; names: readonly string[]; onBehalf?: UserLimit<I> }
  | {
      kind: 'permission';
      permission: string;
      resource?: (input: I, ctx: CallContext) => ResourceRef | Promise<ResourceRef>;
    };

/** The `permission` access; without `resource`, the permission's own resource type (`role.read`: role). */
export const permissionOn = <I>(
  permission: string,
  resource?: (input: I, ctx: CallContext) => ResourceRef | Promise<ResourceRef>,
): Access<I> => ({ kind: 'permission', permission, ...(resource ? { resource } : {}) });

export interface IdempotencySpec<I, O> {
  /** The caller's request_id, if it sent one. */
  key(input: I): string | undefined;
  /**
   * Whose request_id it is: records live per calling service and principal, so one principal can
   * neither read nor block another's. Default: the call's user, else the calling service alone.
   */
  principal?(input: I, ctx: CallContext): string;
  /**
   * Everything that makes two requests "the same". Never a secret (password, token): a mismatch
   * answers ALREADY_EXISTS at no cost, which would make it a guessing oracle; see `prove`.
   */
  fingerprint(input: I): string;
  /**
   * For a request carrying a credential: proves it at the normal cost (argon2, lockout) before a
   * completed record answers at all; false answers IDEMPOTENCY_KEY_REUSED, an error is passed on.
   */
  prove?(input: I, ctx: CallContext): Promise<boolean>;
  /**
   * After a crashed claimant's pending record is taken over, its effect may have committed without
   * its response being stored: finds that effect and answers it instead of running the operation
   * again (which would fail, or do it twice). Proves a credential like `prove` before answering.
   */
  recover?(input: I, ctx: CallContext): Promise<O | undefined>;
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
  /**
   * A query that changes nothing (writes no outbox row, no audit entry): the bus opens no audit
   * scope for it, which a hot read (ValidateSession, CheckPermission) would pay on every call. A
   * write made by one anyway would be recorded with whatever scope is around it (SYSTEM at a server).
   */
  readonly readOnly?: boolean;
  execute(input: I, ctx: CallContext): Promise<O>;
}
