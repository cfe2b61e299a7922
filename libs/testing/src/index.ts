export { ensureTestDatabase, TEST_DATABASE_URL, testSchema, type TestSchema } from './database.js';
export { uniqueName } from './names.js';
export { waitFor } from './wait-for.js';
export { pgRoundTrips } from './pg-round-trips.js';
export { assertNoSchemaDrift, findSchemaDrift, type SchemaDriftOptions } from './schema-drift.js';
export { freePort, startServiceProcess, waitServing, type ServiceProcess } from './processes.js';
export {
  ensureTestNats,
  natsConnectOptions,
  natsConnectOptionsFor,
  natsEnv,
  natsEnvFor,
  NATS_SERVER_INSTALL_HINT,
  NATS_USERS,
  passwordVariableOf,
  startWardenNats,
  testNatsUrl,
  type NatsService,
  type NatsTarget,
  type NatsUser,
  type WardenNats,
  type WardenNatsOptions,
} from './nats.js';
export {
  startWardenNatsCluster,
  type NatsClusterNode,
  type WardenNatsCluster,
  type WardenNatsClusterOptions,
} from './nats-cluster.js';
export { createTestPki, type TestCertificate, type TestPki } from './pki.js';
export {
  decodeExportRequest,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from './otlp-receiver.js';
export { recordingTracer, type RecordedSpan } from './recording-tracer.js';
