export { loadConfig, ConfigError, envNameFor, type LoadConfigOptions } from './load-config.js';
export { duration, listOf } from './types.js';
export {
  grpcSection,
  metricsSection,
  databaseSection,
  natsSection,
  authSection,
  logSection,
  telemetrySection,
  COMMON_ALIASES,
} from './sections.js';
