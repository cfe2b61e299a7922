import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callUnary, createClient, waitForServing } from '@warden/grpc';
import { authzv1 } from '@warden/proto';
import {
  freePort,
  natsEnv,
  startOtlpReceiver,
  TEST_DATABASE_URL,
  uniqueName,
  waitFor,
} from '@warden/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

// What the image runs, without Docker: scripts/package.sh makes the /app tree (bundle + flat
// production node_modules), and `node dist/main.js` must serve from it and stop cleanly on SIGTERM.
const ROOT = join(import.meta.dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'warden-package-'));
const schema = uniqueName('pkg');

afterAll(async () => {
  rmSync(out, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe('production package of authz-service', () => {
  it('serves from node dist/main.js with only its production dependencies, traces through the bundled OpenTelemetry SDK, and exits 0 on SIGTERM', async () => {
    execFileSync('bash', ['scripts/package.sh', 'authz-service', out], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    expect(existsSync(join(out, 'src'))).toBe(false);
    expect(existsSync(join(out, 'dist', 'migrate.js'))).toBe(true);
    // Dev tools the workspace root has are not shipped (they once were, as optional peers).
    expect(existsSync(join(out, 'node_modules', 'prisma'))).toBe(false);
    expect(existsSync(join(out, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(out, 'node_modules', '@prisma', 'client'))).toBe(true);
    // The receiver binds first: a port freePort just released could otherwise be its own.
    const collector = await startOtlpReceiver();
    const port = await freePort();
    const gatewayKey = randomBytes(24).toString('base64url');
    const env = {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: TEST_DATABASE_URL,
      ...natsEnv('authz-service'),
      WARDEN_DATABASE_SCHEMA: schema,
      WARDEN_GRPC_HOST: '127.0.0.1',
      WARDEN_GRPC_PORT: String(port),
      WARDEN_METRICS_PORT: '0',
      WARDEN_LOG_LEVEL: 'warn',
      // Tracing on: the SDK packages must load from the production node_modules.
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // Production refuses the dev keys of config.yaml: the keys come whole from the environment.
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(
        Object.fromEntries(
          ['user-service', 'session-service', 'gateway'].map((caller) => [
            caller,
            caller === 'gateway' ? gatewayKey : randomBytes(24).toString('base64url'),
          ]),
        ),
      ),
      WARDEN_AUTH_CLIENT_KEY: randomBytes(24).toString('base64url'),
      // Production also refuses to start without its idempotency secret.
      WARDEN_IDEMPOTENCY_SECRET: randomBytes(32).toString('base64'),
      // Plaintext gRPC on loopback, as behind a mesh that does the mTLS.
      WARDEN_GRPC_ALLOW_INSECURE: 'true',
    };
    execFileSync('node', ['dist/migrate.js'], { cwd: out, env, stdio: 'pipe' });
    const server = spawn('node', ['dist/main.js'], {
      cwd: out,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      await waitForServing(`127.0.0.1:${port}`, {
        service: 'warden.authz.v1.AuthzService',
        timeoutMs: 30_000,
      });
    } catch (error) {
      server.kill('SIGKILL');
      await collector.close();
      throw new Error(`${(error as Error).message}\n${output}`);
    }
    const authz = createClient(authzv1.AuthzServiceClient, {
      address: `127.0.0.1:${port}`,
      serviceKey: gatewayKey,
    });
    try {
      // A subject nobody granted anything: a real decision, read from the migrated catalogue.
      const decision = await callUnary(authz.checkPermission, authz, {
        subjectId: '0190d4c8-0000-7000-8000-000000000001',
        permission: 'game.join',
      });
      expect(decision.allowed).toBe(false);
      const span = await waitFor(
        () =>
          collector.spans.find(
            (s) =>
              s.service === 'authz-service' && s.kind === 2 && s.name.endsWith('CheckPermission'),
          ),
        { timeoutMs: 15_000, what: `a SERVER span for CheckPermission (output: ${output})` },
      );
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      authz.close();
      server.kill('SIGTERM');
      await collector.close();
    }
    expect(await exited).toBe(0);
  }, 180_000);
});
