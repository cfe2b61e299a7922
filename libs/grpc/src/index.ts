export {
  GrpcServer,
  type CallInfo,
  type Handlers,
  type ServerKitOptions,
  type StreamHandler,
  type UnaryHandler,
  type TlsConfig,
  serverSecurity,
  type ServerSecurityConfig,
} from './server.js';
export {
  createClient,
  channelOptions,
  CLIENT_KEEPALIVE,
  clientOptions,
  callUnary,
  outgoingMetadata,
  type OutgoingContext,
  type ClientKitOptions,
  type ClientSecurityConfig,
} from './client.js';
export { ServiceAuthenticator, SERVICE_KEY_HEADER } from './identity.js';
export { toStatus, fromServiceError, ERROR_DOMAIN } from './status.js';
export {
  createMetrics,
  registerCounter,
  serveMetrics,
  RpcDurations,
  type DurationHistogram,
  type HttpRoute,
  type Metrics,
} from './metrics.js';
export { waitForServing, checkHealth, HEALTH_STATUS } from './health-probe.js';
export { serveHealth, LIVENESS_SERVICE, type HealthServer } from './health-server.js';
export {
  fromProtoListAuditEvents,
  toProtoAuditEvent,
  toProtoAuditPage,
  type ListAuditEventsRequest,
} from './audit.js';
export { MIN_REVISION_METADATA, parseMinRevision, withMinRevision } from './revision.js';
