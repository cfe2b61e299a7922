export {
  loadConfig,
  ConfigError,
  envNameFor,
  NON_CONFIG_VARIABLES,
  type LoadConfigOptions,
} from './load-config.js';
export { DEV_KEY_PREFIX, MIN_PRODUCTION_KEY_LENGTH } from './service-keys.js';
export { duration, listOf } from './types.js';
export { serviceFiles } from './service-files.js';
export {
  grpcSection,
  grpcTarget,
  metricsSection,
  databaseSection,
  natsSection,
  authSection,
  logSection,
  telemetrySection,
  idempotencySection,
  auditSection,
  serviceConfigSection,
  workerSection,
  healthSection,
  type ServiceConfig,
  COMMON_ALIASES,
  SHARED_VARIABLES,
} from './sections.js';
