export {
  ensureTestDatabase,
  TEST_DATABASE_URL,
  TEST_NATS_URL,
  testSchema,
  type TestSchema,
} from './database.js';
export { uniqueName } from './names.js';
export { waitFor } from './wait-for.js';
export { assertNoSchemaDrift, findSchemaDrift, type SchemaDriftOptions } from './schema-drift.js';
export { freePort, startServiceProcess, waitServing, type ServiceProcess } from './processes.js';
