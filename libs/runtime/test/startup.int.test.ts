import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_DATABASE_URL } from '@warden/testing';
import { beforeAll, describe, expect, it } from 'vitest';

const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/start-process.ts', import.meta.url));

const CONFIG = `
grpc: { host: 127.0.0.1, port: 0, max_message_bytes: 4194304, shutdown_grace: 1s, health_port: 0,
  max_connection_age: 5m,
  reflection: false, allow_insecure: false, tls: { enabled: false, cert_file: '', key_file: '', ca_file: '' } }
metrics: { host: 127.0.0.1, port: 0 }
database: { url: ${TEST_DATABASE_URL}, schema: public, pool_size: 1, migrate_on_start: false }
nats: { url: 'nats://127.0.0.1:4222', user: '', password: '', credentials_file: '',
  tls: { enabled: false, ca_file: '', cert_file: '', key_file: '' } }
auth: { service_keys: {}, service_keys_file: '', client_key: '', allowed_services: [] }
log: { level: silent }
telemetry: { otlp_endpoint: '' }
idempotency: { secret: '', previous_secrets: [] }
`;

let configFile: string;

beforeAll(() => {
  configFile = join(mkdtempSync(join(tmpdir(), 'runtime-start-')), 'config.yaml');
  writeFileSync(configFile, CONFIG);
});

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

function start(env: Record<string, string>): Promise<Run> {
  const child = spawn(TSX, [FIXTURE], {
    env: { ...process.env, FIXTURE_CONFIG: configFile, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout })));
}

describe('startProcess', () => {
  it('starts and stops cleanly with a valid config and a reachable database', async () => {
    const run = await start({ WARDEN_AUTH_CLIENT_KEY: 'fixture-key-0000000000' });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    // Without TLS an outbound client carries this service's key.
    expect(JSON.parse(run.stdout)).toEqual({
      address: 'peer:50051',
      serviceKey: 'fixture-key-0000000000',
      deadlineMs: 5_000,
    });
  });

  it('gives the server its connection age (so callers re-resolve) and shutdown_grace as its grace', async () => {
    const run = await start({
      WARDEN_AUTH_CLIENT_KEY: 'fixture-key-0000000000',
      WARDEN_GRPC_MAX_CONNECTION_AGE: '90s',
      FIXTURE_PRINT: 'server',
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      maxConnectionAgeMs: 90_000,
      maxConnectionAgeGraceMs: 1_000,
    });
  });

  it('builds outbound clients with TLS (its certificate as client certificate, no key) when grpc.tls is on', async () => {
    const run = await start({
      WARDEN_AUTH_CLIENT_KEY: 'fixture-key-0000000000',
      WARDEN_GRPC_TLS_ENABLED: 'true',
      WARDEN_GRPC_TLS_CERT_FILE: '/tls/tls.crt',
      WARDEN_GRPC_TLS_KEY_FILE: '/tls/tls.key',
      WARDEN_GRPC_TLS_CA_FILE: '/tls/ca.crt',
      WARDEN_AUTH_ALLOWED_SERVICES: 'gateway',
    });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual({
      address: 'peer:50051',
      tls: {
        enabled: true,
        caFile: '/tls/ca.crt',
        certFile: '/tls/tls.crt',
        keyFile: '/tls/tls.key',
      },
      deadlineMs: 5_000,
    });
  });

  it('a bad config exits 1 with one line naming the key', async () => {
    const { code, stderr } = await start({ WARDEN_GRPC_PORT: 'not-a-port' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^fixture-service: cannot start: .*grpc\.port/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unreachable database exits 1 and the message keeps the host, not the password', async () => {
    const { code, stderr } = await start({
      WARDEN_DATABASE_URL: 'postgres://warden:s3cret-pass@127.0.0.1:1/warden',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'fixture-service: cannot start: database postgres://127.0.0.1:1/warden',
    );
    expect(stderr).not.toContain('s3cret-pass');
  });
});
