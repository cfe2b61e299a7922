import { connect } from 'node:net';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_NATS_URL } from './database.js';

/** Runs once per test run: the real Postgres and nats-server must answer; the test database exists. */
export default async function globalSetup(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const database = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `Postgres is not reachable at ${url.host}: start it (see README) — ${(error as Error).message}`,
    );
  }
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
    database,
  ]);
  if (!rowCount) await admin.query(`CREATE DATABASE "${database}"`).catch(() => undefined);
  await admin.end();

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
