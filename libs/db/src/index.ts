export { createPool, type DatabaseConfig } from './pool.js';
export { migrate, listMigrations, type MigrateOptions, type Migration } from './migrate.js';
export { PgIdempotencyStore, IDEMPOTENCY_DDL } from './idempotency-store.js';
