export { ensureTestDatabase, TEST_DATABASE_URL, testSchema, type TestSchema } from './database.js';
export { uniqueName } from './names.js';
export { waitFor } from './wait-for.js';
export { assertNoSchemaDrift, findSchemaDrift, type SchemaDriftOptions } from './schema-drift.js';
export { freePort, startServiceProcess, waitServing, type ServiceProcess } from './processes.js';
export {
  ensureTestNats,
  natsConnectOptions,
  natsEnv,
  NATS_USERS,
  passwordVariableOf,
  startWardenNats,
  testNatsUrl,
  type NatsService,
  type NatsUser,
  type WardenNats,
  type WardenNatsOptions,
} from './nats.js';
export { createTestPki, type TestCertificate, type TestPki } from './pki.js';
export {
  decodeExportRequest,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './otlp-receiver.js';
export { recordingTracer, type RecordedSpan } from './recording-tracer.js';
