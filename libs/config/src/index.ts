export { loadConfig, ConfigError, envNameFor, type LoadConfigOptions } from './load-config.js';
export { duration, listOf } from './types.js';
