import { connect } from 'node:net';
import { ensureTestDatabase, TEST_NATS_URL } from './database.js';

/** Runs once per test run: the real Postgres and nats-server must answer; the test database exists. */
export default async function globalSetup(): Promise<void> {
  await ensureTestDatabase();
  const nats = new URL(TEST_NATS_URL.replace(/^nats:/, 'http:'));
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(nats.port || 4222), nats.hostname, () => {
      socket.end();
      resolve();
    });
    socket.on('error', (error) =>
      reject(new Error(`nats-server is not reachable at ${nats.host}: ${error.message}`)),
    );
  });
}
