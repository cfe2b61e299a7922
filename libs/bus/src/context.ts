/** Who is calling: always a service, and for user-scoped calls also a user (from a session token). */
export interface ServiceIdentity {
  name: string;
}

/** How strongly a session was authenticated: AAL2 when a second factor completed it. */
export type AssuranceLevel = 'AAL1' | 'AAL2';

export interface UserPrincipal {
  userId: string;
  sessionId: string;
  /** The session's level; absent (a resolver that does not know) counts as AAL1. */
  assuranceLevel?: AssuranceLevel;
  /**
   * When the user proved their credentials for this session (its create time; a refresh keeps
   * it). Absent (a resolver that does not know) counts as long ago: privileged changes refuse it.
   */
  authenticatedAt?: Date;
}

export interface CallContext {
  service: ServiceIdentity;
  user?: UserPrincipal;
  requestId: string;
  traceparent?: string;
  /** W3C tracestate that came with `traceparent`, passed on unchanged. */
  tracestate?: string;
  /** Raw bearer token, forwarded when this service calls another on the user's behalf. */
  bearerToken?: string;
  /**
   * The authz revision the caller must see at least (metadata `x-warden-min-revision`, a write's
   * `revision`): every authz check made for this call asks for it, and calls made downstream on
   * its behalf carry it on.
   */
  minRevision?: number;
}

/** Authorization subject: the user when there is one, else the calling service itself. */
export const subjectOf = (ctx: CallContext): string =>
  ctx.user?.userId ?? `service:${ctx.service.name}`;

/** What a permission is checked against; `ownerId` makes `:own` grants work. */
export interface ResourceRef {
  type: string;
  id?: string;
  ownerId?: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
  /** Denied only for want of a second factor: the grant needs AAL2 (`@aal2`). */
  stepUpRequired?: boolean;
}

/**
 * The authorization port every service's bus uses (in-memory in tests, authz-service in prod).
 * `assurance` is the user's session level; `@aal2` grants apply only at AAL2, never without one.
 * `minRevision`: answer from authz state at least that new (read-your-writes), never from a
 * cached decision older than it.
 */
export interface PermissionChecker {
  check(
    subjectId: string,
    permission: string,
    resource: ResourceRef,
    assurance?: AssuranceLevel,
    minRevision?: number,
  ): Promise<Decision>;
}
