export { createPool, type DatabaseConfig } from './pool.js';
export { migrate, listMigrations, type MigrateOptions, type Migration } from './migrate.js';
