export {
  startProcess,
  type ProcessSpec,
  type ProcessRole,
  type ServiceSpec,
  type WardenProcess,
  type RuntimeConfig,
  type ClientExtra,
  type PeerClientOptions,
  type CommonServerOptions,
} from './process.js';
export { migrateArgs, DEFAULT_MIGRATIONS_WAIT_MS } from './migrate-args.js';
export { every, retry, sweepInBatches, type Periodic, type RetryOptions } from './every.js';
export { Shutdown, exitOnSignal, failStartup, redactUrls } from './shutdown.js';
export { poolMetrics } from './pool-metrics.js';
export { pruneRetained, type Retention } from './retention.js';
export { eventMetrics } from './event-metrics.js';
export {
  DependencyMonitor,
  type Dependency,
  type DependencyMonitorOptions,
} from './dependency-monitor.js';
export { cacheMetrics, outboxMetrics, type CacheStats } from './operator-metrics.js';
export { clientOptions } from '@warden/grpc';
