export {
  GrpcServer,
  type CallInfo,
  type Handlers,
  type ServerKitOptions,
  type StreamHandler,
  type UnaryHandler,
  type TlsConfig,
} from './server.js';
export { createClient, callUnary, outgoingMetadata, type ClientKitOptions } from './client.js';
export { ServiceAuthenticator, SERVICE_KEY_HEADER } from './identity.js';
export { toStatus, fromServiceError, ERROR_DOMAIN } from './status.js';
export { createMetrics, serveMetrics, type Metrics } from './metrics.js';
export { ensureTraceparent, traceIdOf } from '@warden/logger';
export { onShutdown, failStartup } from './lifecycle.js';
export { waitForServing } from './health-probe.js';
