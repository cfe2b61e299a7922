import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import {
  connectNats,
  natsConnectOptions,
  type Logger,
  type NatsClients,
  type NatsSettings,
} from '@warden/events';
import {
  createTestPki,
  freePort,
  NATS_USERS,
  passwordVariableOf,
  waitFor,
  type TestPki,
} from '@warden/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * nats.tls: a service reaches a nats-server that requires TLS and verifies client certificates
 * (warden's users and permissions on top) only with the CA and certificate it is configured with.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const quiet = () => undefined;
const logger: Logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
let pki: TestPki;
let otherPki: TestPki;
let server: ChildProcess;
let storeDir: string;
let url: string;
const opened: NatsClients[] = [];

beforeAll(async () => {
  pki = createTestPki('warden-nats-ca');
  otherPki = createTestPki('someone-elses-ca');
  const serverCert = pki.issue('nats');
  const port = await freePort();
  storeDir = mkdtempSync(join(tmpdir(), 'warden-nats-tls-'));
  url = `nats://127.0.0.1:${port}`;
  server = spawn(
    '/usr/sbin/nats-server',
    [
      ...['-c', join(ROOT, 'deploy', 'nats', 'nats-server.conf'), '-a', '127.0.0.1'],
      ...['-p', String(port), '-sd', storeDir, '--tlsverify'],
      ...['--tlscert', serverCert.certFile, '--tlskey', serverCert.keyFile],
      ...['--tlscacert', pki.caFile],
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...Object.fromEntries(NATS_USERS.map((u) => [passwordVariableOf(u), `pw-${u}`])),
      },
      stdio: 'ignore',
    },
  );
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connectTcp(port, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      }),
    { timeoutMs: 10_000, intervalMs: 50, what: 'nats-server with TLS' },
  );
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.nc.close()));
  server?.kill('SIGTERM');
  rmSync(storeDir, { recursive: true, force: true });
  pki?.remove();
  otherPki?.remove();
});

function settings(tls: Partial<NonNullable<NatsSettings['tls']>>): NatsSettings {
  const own = pki.issue('user-service');
  return {
    url,
    user: 'user-service',
    password: 'pw-user-service',
    tls: {
      enabled: true,
      ca_file: pki.caFile,
      cert_file: own.certFile,
      key_file: own.keyFile,
      ...tls,
    },
  };
}

/** The refusal of a connection with `settings` (a client certificate the server rejects ends the
 * handshake without a word, so a short connect timeout bounds the wait). */
async function refused(settings: NatsSettings): Promise<string> {
  try {
    const nc = await connect({ ...natsConnectOptions(settings, 'refused'), timeout: 3_000 });
    await nc.close();
  } catch (error) {
    return String((error as Error).message);
  }
  throw new Error('expected the connection to be refused');
}

describe('NATS over TLS (nats.tls)', () => {
  it('connects with the CA and the client certificate it is given, as its own user', async () => {
    const clients = await connectNats(settings({}), 'user-service', logger);
    opened.push(clients);
    expect(clients.nc.info?.tls_verify).toBe(true);
    // Still warden's permissions: its own subjects only.
    clients.nc.publish('warden.user.v1.tls_probe');
    await clients.nc.flush();
    expect(clients.nc.isClosed()).toBe(false);
  });

  it('is refused in plaintext, without a client certificate, or with another CA’s', async () => {
    const plaintext = settings({ enabled: false, ca_file: '', cert_file: '', key_file: '' });
    // nats.js upgrades to the TLS the server requires, and cannot verify it without the CA.
    expect(await refused(plaintext)).toMatch(/unable to verify the first certificate/);
    // The server drops a handshake without a client certificate, or with one it cannot verify:
    // no connection within the bound (the right certificate connects at once, test above).
    const noCertificate = await refused(settings({ cert_file: '', key_file: '' }));
    expect(noCertificate).toBe('timeout');
    const stranger = otherPki.issue('user-service');
    const strangerRefusal = await refused(
      settings({ cert_file: stranger.certFile, key_file: stranger.keyFile }),
    );
    expect(strangerRefusal).toBe('timeout');
  });

  it('does not trust a server whose certificate its CA did not sign', async () => {
    expect(await refused(settings({ ca_file: otherPki.caFile }))).toMatch(
      /unable to verify the first certificate/,
    );
  });
});
