import { ensureTestDatabase } from './database.js';
import {
  exportNatsEnv,
  NATS_PASSWORDS_VARIABLE,
  NATS_URL_VARIABLE,
  startWardenNats,
} from './nats.js';
import { useServiceBuilds } from './processes.js';

/**
 * Runs once per test run: the real Postgres must answer and the test database exist; a nats-server
 * with warden's users and permissions is started for the run (or, when WARDEN_TEST_NATS_URL and
 * WARDEN_TEST_NATS_PASSWORDS are given, that one is used) and stopped at the end. The services
 * are bundled once for the run's service processes (useServiceBuilds).
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  await ensureTestDatabase();
  const removeBuilds = useServiceBuilds();
  if (process.env[NATS_URL_VARIABLE] && process.env[NATS_PASSWORDS_VARIABLE])
    return async () => removeBuilds();
  const nats = await startWardenNats().catch((error: unknown) => {
    removeBuilds();
    throw error;
  });
  exportNatsEnv(nats);
  return async () => {
    await nats.stop();
    removeBuilds();
  };
}
