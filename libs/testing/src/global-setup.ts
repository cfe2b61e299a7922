import { ensureTestDatabase } from './database.js';
import {
  exportNatsEnv,
  NATS_PASSWORDS_VARIABLE,
  NATS_URL_VARIABLE,
  startWardenNats,
} from './nats.js';

/**
 * Runs once per test run: the real Postgres must answer and the test database exist; a nats-server
 * with warden's users and permissions is started for the run (or, when WARDEN_TEST_NATS_URL and
 * WARDEN_TEST_NATS_PASSWORDS are given, that one is used) and stopped at the end.
 */
export default async function globalSetup(): Promise<(() => Promise<void>) | void> {
  await ensureTestDatabase();
  if (process.env[NATS_URL_VARIABLE] && process.env[NATS_PASSWORDS_VARIABLE]) return;
  const nats = await startWardenNats();
  exportNatsEnv(nats);
  return () => nats.stop();
}
