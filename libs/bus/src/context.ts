/** Who is calling: always a service, and for user-scoped calls also a user (from a session token). */
export interface ServiceIdentity {
  name: string;
}

export interface UserPrincipal {
  userId: string;
  sessionId: string;
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
}

/** The authorization port every service's bus uses (in-memory in tests, authz-service in prod). */
export interface PermissionChecker {
  check(subjectId: string, permission: string, resource: ResourceRef): Promise<Decision>;
}
