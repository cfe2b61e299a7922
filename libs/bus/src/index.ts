export * from './context.js';
export * from './use-case.js';
export { Bus, type BusDeps } from './bus.js';
export {
  AUDIT_READ,
  MemoryAuditLog,
  SYSTEM_AUDIT_SCOPE,
  auditScopeOf,
  consumerAuditScope,
  currentAuditScope,
  inAuditScope,
  listAuditEvents,
  type AuditActor,
  type AuditFilter,
  type AuditLog,
  type AuditPage,
  type AuditQuery,
  type AuditRecord,
  type AuditScope,
  type ListAuditEventsInput,
} from './audit.js';
export {
  pageSize,
  readPage,
  encodePageToken,
  decodePageToken,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type PositionPart,
  type Page,
  type PageRequest,
  type PageListing,
  type PagePosition,
} from './paging.js';
export {
  Idempotency,
  principalOf as idempotencyPrincipalOf,
  recordAddress as idempotencyRecordAddress,
  type IdempotencyStore,
  type IdempotencyRecord,
  type ClaimResult,
  type AnswerSlot,
  type SealedAnswer,
} from './idempotency.js';
export {
  IdempotencyKeyring,
  idempotencyKeyring,
  MIN_IDEMPOTENCY_SECRET_LENGTH,
  type RecordKeys,
} from './idempotency-keys.js';
export { MemoryIdempotencyStore } from './memory-idempotency-store.js';
export { AllowAllChecker, TablePermissionChecker } from './testing-checkers.js';
export { requireDeps } from './require-deps.js';
