import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForServing } from '@warden/grpc';
import { freePort, natsEnv, TEST_DATABASE_URL, uniqueName } from '@warden/testing';
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
  it('serves from node dist/main.js with only its production dependencies, and exits 0 on SIGTERM', async () => {
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
    const port = await freePort();
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
      // Production refuses the dev keys of config.yaml: the keys come whole from the environment.
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(
        Object.fromEntries(
          ['user-service', 'session-service', 'gateway'].map((caller) => [
            caller,
            randomBytes(24).toString('base64url'),
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
      throw new Error(`${(error as Error).message}\n${output}`);
    }
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
