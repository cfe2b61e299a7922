import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppError } from '@warden/errors';
import { callUnary, createClient } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import {
  ensureTestDatabase,
  freePort,
  natsEnv,
  startServiceProcess,
  TEST_DATABASE_URL,
  uniqueName,
  waitServing,
  type ServiceProcess,
} from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullRequest } from '../support/stack.js';

// Attack 2: production could not set its service keys (WARDEN_AUTH_SERVICE_KEYS was ignored) and
// still accepted the public dev-key-* values, e.g. the authz dev key listing every user's email.
const SERVICES = ['user-service', 'session-service', 'authz-service'] as const;
const DEV_AUTHZ_KEY = 'dev-key-authz-service-000';
const DEV_GATEWAY_KEY = 'dev-key-gateway-000000000';
const secret = () => randomBytes(24).toString('base64url');
const KEYS = {
  gateway: secret(),
  'user-service': secret(),
  'session-service': secret(),
  'authz-service': secret(),
  // A caller config.yaml has never heard of, added by the environment alone.
  'billing-service': secret(),
};
const OWN_KEY = secret();

const dir = mkdtempSync(join(tmpdir(), 'warden-keys-'));
const schema = uniqueName('prodkeys');
const started: ServiceProcess[] = [];

beforeAll(() => ensureTestDatabase());

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}, 60_000);

/** Starts a process as production would, and waits for it to exit: it must refuse to start. */
async function refusedStart(
  service: string,
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const process = startServiceProcess(service, entry, { NODE_ENV: 'production', ...env });
  started.push(process);
  const code = await new Promise<number | null>((resolve) =>
    process.child.exitCode !== null
      ? resolve(process.child.exitCode)
      : process.child.once('exit', (exitCode) => resolve(exitCode)),
  );
  return { code, output: process.output() };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the call to be refused');
}

// Six processes starting at once (every server and worker): 13 s in CI, past the default 30 s
// on a loaded two-core machine. A budget for the work, not a startup-time claim.
const SIX_STARTS_MS = 90_000;

describe('a production service refuses to start', () => {
  it(
    'with the dev keys of its config.yaml: every server and worker, one line naming the callers',
    async () => {
      const runs = await Promise.all(
        SERVICES.flatMap((service) =>
          ['main.ts', 'worker.ts'].map(async (entry) => ({
            service,
            entry,
            ...(await refusedStart(service, entry, {})),
          })),
        ),
      );
      for (const run of runs) {
        const where = `${run.service}/${run.entry}`;
        expect(run.code, where).toBe(1);
        expect(run.output, where).toMatch(
          new RegExp(`^${run.service}([ -]worker)?: cannot start: `, 'm'),
        );
        expect(run.output, where).toContain(
          `: cannot start: config: auth.service_keys: NODE_ENV=production refuses the key of user-service (a public dev-key-* key), session-service (a public dev-key-* key), authz-service (a public dev-key-* key), gateway (a public dev-key-* key)`,
        );
        expect(run.output, where).not.toMatch(/dev-key-[a-z]+-service-0|dev-key-gateway-0/);
      }
    },
    SIX_STARTS_MS,
  );

  it('with a key shorter than 24 characters, naming its caller and not the key', async () => {
    const short = 'short-but-16-chars+';
    const { code, output } = await refusedStart('user-service', 'main.ts', {
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ ...KEYS, gateway: short }),
      WARDEN_AUTH_CLIENT_KEY: OWN_KEY,
    });
    expect(code).toBe(1);
    expect(output).toContain(
      'user-service: cannot start: config: auth.service_keys (from WARDEN_AUTH_SERVICE_KEYS): NODE_ENV=production refuses the key of gateway (shorter than 24 characters)',
    );
    expect(output).not.toContain(short);
  });

  it('with its own dev client key', async () => {
    const { code, output } = await refusedStart('session-service', 'main.ts', {
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(KEYS),
    });
    expect(code).toBe(1);
    expect(output).toContain(
      "session-service: cannot start: config: auth.client_key: NODE_ENV=production refuses this service's own key (a public dev-key-* key)",
    );
  });

  it(
    'with strong keys but plaintext gRPC, unless grpc.allow_insecure (a mesh does the mTLS)',
    async () => {
      const strong = {
        WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(KEYS),
        WARDEN_AUTH_CLIENT_KEY: OWN_KEY,
        WARDEN_IDEMPOTENCY_SECRET: randomBytes(32).toString('base64'),
      };
      const runs = await Promise.all(
        SERVICES.flatMap((service) =>
          ['main.ts', 'worker.ts'].map(async (entry) => ({
            where: `${service}/${entry}`,
            ...(await refusedStart(service, entry, strong)),
          })),
        ),
      );
      for (const run of runs) {
        expect(run.code, run.where).toBe(1);
        expect(run.output, run.where).toContain(
          ': cannot start: config: grpc.tls.enabled (set WARDEN_GRPC_TLS_ENABLED): NODE_ENV=production refuses plaintext gRPC; turn on mTLS, or set WARDEN_GRPC_ALLOW_INSECURE=true only behind a mesh that does mTLS',
        );
      }
    },
    SIX_STARTS_MS,
  );

  it('with an unknown WARDEN_* variable, naming it', async () => {
    const { code, output } = await refusedStart('authz-service', 'main.ts', {
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(KEYS),
      WARDEN_AUTH_CLIENT_KEY: OWN_KEY,
      WARDEN_AUTH_SERVICE_KEY_GATEWAY: KEYS.gateway,
    });
    expect(code).toBe(1);
    expect(output).toMatch(
      /authz-service: cannot start: config: unknown variable WARDEN_AUTH_SERVICE_KEY_GATEWAY \(not a key of /,
    );
  });
});

describe('a production user-service with its keys from the environment or a file', () => {
  async function startUserService(keys: Record<string, string>): Promise<string> {
    const port = await freePort();
    const process = startServiceProcess('user-service', 'main.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: TEST_DATABASE_URL,
      ...natsEnv('user-service'),
      WARDEN_DATABASE_SCHEMA: schema,
      WARDEN_DATABASE_POOL_SIZE: '2',
      WARDEN_GRPC_HOST: '127.0.0.1',
      WARDEN_GRPC_PORT: String(port),
      WARDEN_METRICS_HOST: '127.0.0.1',
      WARDEN_METRICS_PORT: '0',
      WARDEN_AUTH_CLIENT_KEY: OWN_KEY,
      // Production also refuses to start without its idempotency secret and TOTP sealing key.
      WARDEN_IDEMPOTENCY_SECRET: randomBytes(32).toString('base64'),
      WARDEN_MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      // Plaintext gRPC on loopback, as behind a mesh that does the mTLS.
      WARDEN_GRPC_ALLOW_INSECURE: 'true',
      ...keys,
    });
    started.push(process);
    await waitServing(`127.0.0.1:${port}`, process, 60_000);
    return `127.0.0.1:${port}`;
  }

  async function expectKeysInForce(address: string): Promise<void> {
    const as = (serviceKey: string) =>
      createClient(userv1.UserServiceClient, { address, serviceKey });
    // The caller added by env alone can register a user.
    const billing = as(KEYS['billing-service']);
    const email = `${uniqueName('prod')}@example.com`;
    const registered = await callUnary(
      billing.registerUser,
      billing,
      fullRequest<userv1.RegisterUserRequest>('registerUser', {
        email,
        password: 'correct horse battery staple',
        displayName: 'Prod',
        requestId: uniqueName('req'),
      }),
      undefined,
      20_000,
    );
    expect(registered.user?.email).toBe(email);
    // The public authz dev key no longer lists users; the dev gateway key no longer registers.
    const devAuthz = as(DEV_AUTHZ_KEY);
    const listing = await failure(
      callUnary(devAuthz.listUsers, devAuthz, fullRequest('listUsers', { pageSize: 100 })),
    );
    expect([listing.kind, listing.reason]).toEqual([
      'UNAUTHENTICATED',
      'SERVICE_IDENTITY_REQUIRED',
    ]);
    const devGateway = as(DEV_GATEWAY_KEY);
    const registering = await failure(
      callUnary(
        devGateway.registerUser,
        devGateway,
        fullRequest('registerUser', {
          email: `${uniqueName('dev')}@example.com`,
          password: 'correct horse battery staple',
          displayName: 'Dev',
          requestId: uniqueName('req'),
        }),
      ),
    );
    expect([registering.kind, registering.reason]).toEqual([
      'UNAUTHENTICATED',
      'SERVICE_IDENTITY_REQUIRED',
    ]);
    for (const client of [billing, devAuthz, devGateway]) client.close();
  }

  it('takes the whole map from WARDEN_AUTH_SERVICE_KEYS (JSON)', async () => {
    const address = await startUserService({
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(KEYS),
      WARDEN_DATABASE_MIGRATE_ON_START: 'true',
    });
    await expectKeysInForce(address);
  }, 90_000);

  it('takes the whole map from auth.service_keys_file (a mounted Secret)', async () => {
    const file = join(dir, 'service-keys.yaml');
    writeFileSync(
      file,
      Object.entries(KEYS)
        .map(([caller, key]) => `${caller}: '${key}'`)
        .join('\n'),
      { mode: 0o600 },
    );
    const address = await startUserService({
      WARDEN_AUTH_SERVICE_KEYS_FILE: file,
      WARDEN_DATABASE_MIGRATE_ON_START: 'false',
    });
    await expectKeysInForce(address);
  }, 90_000);
});
