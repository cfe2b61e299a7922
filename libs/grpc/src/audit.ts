import type { AuditPage, AuditRecord, ListAuditEventsInput } from '@warden/bus';
import { auditv1 } from '@warden/proto';

/** What every service's ListAuditEventsRequest carries. */
export interface ListAuditEventsRequest {
  filter?: auditv1.AuditEventFilter | undefined;
  pageSize: number;
  pageToken: string;
}

export const fromProtoListAuditEvents = (
  request: ListAuditEventsRequest,
): ListAuditEventsInput => ({
  pageSize: request.pageSize,
  pageToken: request.pageToken,
  ...(request.filter ? { filter: request.filter } : {}),
});

const ACTOR_TYPES: Record<AuditRecord['actor']['type'], auditv1.AuditActorType> = {
  USER: auditv1.AuditActorType.AUDIT_ACTOR_TYPE_USER,
  SERVICE: auditv1.AuditActorType.AUDIT_ACTOR_TYPE_SERVICE,
  SYSTEM: auditv1.AuditActorType.AUDIT_ACTOR_TYPE_SYSTEM,
};

export const toProtoAuditEvent = (entry: AuditRecord, service: string): auditv1.AuditEvent => ({
  id: entry.id,
  time: entry.time,
  service,
  actor: {
    type: ACTOR_TYPES[entry.actor.type] ?? auditv1.AuditActorType.AUDIT_ACTOR_TYPE_UNSPECIFIED,
    id: entry.actor.id,
    viaService: entry.actor.viaService,
  },
  action: entry.action,
  target: { type: entry.target.type, id: entry.target.id },
  requestId: entry.requestId,
  traceId: entry.traceId,
  reason: entry.reason,
  eventId: entry.eventId,
  details: { ...entry.details },
});

/** A page of ListAuditEvents as every service answers it; `service` is the one that made the changes. */
export const toProtoAuditPage = (
  page: AuditPage,
  service: string,
): { auditEvents: auditv1.AuditEvent[]; nextPageToken: string } => ({
  auditEvents: page.auditEvents.map((entry) => toProtoAuditEvent(entry, service)),
  nextPageToken: page.nextPageToken,
});
