export { createPool, type DatabaseConfig } from './pool.js';
export {
  migrate,
  listMigrations,
  waitForMigrations,
  type MigrateOptions,
  type Migration,
  type WaitForMigrationsOptions,
} from './migrate.js';
export {
  PgIdempotencyStore,
  completeIdempotencySql,
  IDEMPOTENCY_DDL,
  FORGET_IDEMPOTENCY_OWNER_SQL,
} from './idempotency-store.js';
export {
  lastRows,
  queryThenCommit,
  withClient,
  withTransaction,
  withTransactionFrom,
} from './transaction.js';
export {
  pgErrorCode,
  isDatabaseUnavailable,
  isForeignKeyViolation,
  isUniqueViolation,
} from './pg-errors.js';
