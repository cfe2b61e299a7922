import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import { createLogger } from '@warden/logger';
import { userv1 } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The openssl test CA lives in @warden/testing, which itself depends on this package.
import { createTestPki, type TestPki } from '../../testing/src/pki.js';
import {
  callUnary,
  clientOptions,
  createClient,
  type ClientSecurityConfig,
} from '../src/client.js';
import { waitForServing } from '../src/health-probe.js';
import { sameKey, ServiceAuthenticator } from '../src/identity.js';
import { GrpcServer, serverSecurity, type ServerSecurityConfig } from '../src/server.js';

const silent = createLogger({ service: 'test', level: 'silent' });
const definition = { getUser: userv1.UserServiceService.getUser };
const callers: string[] = [];

let pki: TestPki;
let server: GrpcServer;
let address: string;
let healthAddress: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A service's config as the loader returns it, with this service's certificate. */
function serviceConfig(
  name: string,
  tlsEnabled = true,
): ServerSecurityConfig & ClientSecurityConfig {
  const certificate = pki.issue(name);
  return {
    grpc: {
      health_port: 0,
      tls: {
        enabled: tlsEnabled,
        cert_file: certificate.certFile,
        key_file: certificate.keyFile,
        ca_file: certificate.caFile,
      },
    },
    auth: {
      service_keys: { gateway: 'gateway-key-long-enough-000' },
      client_key: `${name}-key-long-enough-000`,
      allowed_services: ['gateway', 'session-service'],
    },
  };
}

beforeAll(async () => {
  pki = createTestPki();
  const config = serviceConfig('user-service');
  config.grpc.health_port = await freePort();
  server = new GrpcServer({
    serviceName: 'user-service',
    logger: silent,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 64 * 1024,
    ...serverSecurity(config),
  });
  server.addService(definition, {
    getUser: async (request, call) => {
      callers.push(call.ctx.service.name);
      return {
        user: userv1.User.fromPartial({
          id: request.userId,
          email: 'a@x.io',
          displayName: 'A',
          status: 1,
        }),
      };
    },
  });
  address = `127.0.0.1:${await server.listen()}`;
  healthAddress = `127.0.0.1:${server.healthPort}`;
});

afterAll(async () => {
  await server?.shutdown(1000);
  pki?.remove();
});

const getUser = (options: ReturnType<typeof clientOptions>) => {
  const client = createClient(userv1.UserServiceClient, options);
  return callUnary(client.getUser, client, { userId: 'u-1' }).finally(() => client.close());
};

describe('clientOptions', () => {
  it('carries TLS with the service certificate, and no key, when grpc.tls is on', () => {
    const config = serviceConfig('session-service');
    expect(clientOptions(config, 'h:1', { deadlineMs: 5 })).toEqual({
      address: 'h:1',
      tls: {
        enabled: true,
        caFile: config.grpc.tls.ca_file,
        certFile: config.grpc.tls.cert_file,
        keyFile: config.grpc.tls.key_file,
      },
      deadlineMs: 5,
    });
  });

  it('carries the service key when grpc.tls is off', () => {
    expect(clientOptions(serviceConfig('session-service', false), 'h:1')).toEqual({
      address: 'h:1',
      serviceKey: 'session-service-key-long-enough-000',
    });
  });
});

describe('a server with mTLS', () => {
  it('takes a listed CN as the calling service', async () => {
    const response = await getUser(clientOptions(serviceConfig('session-service'), address));
    expect(response.user?.id).toBe('u-1');
    expect(callers.at(-1)).toBe('session-service');
  });

  it('refuses a CA-signed certificate whose CN is not in allowed_services', async () => {
    const before = callers.length;
    await expect(
      getUser(clientOptions(serviceConfig('authz-service'), address)),
    ).rejects.toMatchObject({ kind: 'UNAUTHENTICATED', reason: 'SERVICE_IDENTITY_REQUIRED' });
    expect(callers.length).toBe(before);
  });

  it('refuses a plaintext caller even with a valid key', async () => {
    await expect(
      getUser({ address, serviceKey: 'gateway-key-long-enough-000', maxAttempts: 2 }),
    ).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
  });

  it('answers grpc.health.v1 on the plaintext health port, and serves nothing else there', async () => {
    await waitForServing(healthAddress, {
      service: 'warden.user.v1.UserService',
      timeoutMs: 5_000,
    });
    const client = createClient(userv1.UserServiceClient, { address: healthAddress });
    const code = await new Promise<number | undefined>((resolve) =>
      client.getUser({ userId: 'u-1' }, new Metadata(), (error) => resolve(error?.code)),
    );
    client.close();
    expect(code).toBe(status.UNIMPLEMENTED);
  });
});

describe('certificate renewal', () => {
  it('applies a renewed CA bundle and server certificate without a restart', async () => {
    const next = createTestPki('next-ca');
    const dir = mkdtempSync(join(tmpdir(), 'warden-renewal-'));
    const current = pki.issue('user-service');
    const files = {
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      caFile: join(dir, 'ca.crt'),
    };
    // Like a Secret volume: the new content appears at once (rename), never half written.
    const put = (file: string, text: string) => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    put(files.certFile, readFileSync(current.certFile, 'utf8'));
    put(files.keyFile, readFileSync(current.keyFile, 'utf8'));
    put(files.caFile, readFileSync(current.caFile, 'utf8'));
    const renewing = new GrpcServer({
      serviceName: 'user-service',
      logger: silent,
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: 64 * 1024,
      serviceKeys: {},
      tls: { enabled: true, ...files, reloadIntervalMs: 100 },
      allowedServices: ['gateway'],
    });
    renewing.addService(definition, {
      getUser: async (request) => ({
        user: userv1.User.fromPartial({ id: request.userId, status: 1 }),
      }),
    });
    const target = `127.0.0.1:${await renewing.listen()}`;
    try {
      const fromNextCa = next.issue('gateway');
      const caller = (caFile: string) =>
        getUser({ address: target, tls: { enabled: true, ...fromNextCa, caFile }, maxAttempts: 2 });
      await expect(caller(pki.caFile)).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
      // The new CA joins the bundle: callers with its certificates get in.
      put(files.caFile, readFileSync(pki.caFile, 'utf8') + readFileSync(next.caFile, 'utf8'));
      await waitFor(() =>
        caller(pki.caFile).then(
          () => true,
          () => false,
        ),
      );
      // The server's own certificate is renewed from the new CA: callers trusting only it get in.
      const renewed = next.issue('user-service');
      put(files.keyFile, readFileSync(renewed.keyFile, 'utf8'));
      put(files.certFile, readFileSync(renewed.certFile, 'utf8'));
      await waitFor(() =>
        caller(next.caFile).then(
          () => true,
          () => false,
        ),
      );
      expect((await caller(next.caFile)).user?.id).toBe('u-1');
    } finally {
      await renewing.shutdown(1000);
      next.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Polls `check` until it is true, for at most ten seconds. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('not reached within 10 s');
}

describe('ServiceAuthenticator', () => {
  it('accepts each of the keys a caller has while one is rotated, and nothing else', () => {
    const authenticator = new ServiceAuthenticator({
      gateway: ['gateway-old-key-000000000000', 'gateway-new-key-000000000000'],
      'session-service': 'session-key-0000000000000000',
    });
    const withKey = (key: string) => {
      const metadata = new Metadata();
      metadata.set('x-warden-service-key', key);
      return metadata;
    };
    expect(authenticator.identify({}, withKey('gateway-old-key-000000000000'))).toBe('gateway');
    expect(authenticator.identify({}, withKey('gateway-new-key-000000000000'))).toBe('gateway');
    expect(authenticator.identify({}, withKey('session-key-0000000000000000'))).toBe(
      'session-service',
    );
    expect(() => authenticator.identify({}, withKey('gateway-other-key-0000000000'))).toThrow(
      /x-warden-service-key/,
    );
  });

  it('refuses near misses: a prefix, an extension, a repetition, another case, an empty key', () => {
    const key = 'gateway-key-00000000000000000';
    for (const presented of [
      key.slice(0, -1),
      `${key}0`,
      key + key,
      key.toUpperCase(),
      `x${key.slice(1)}`,
      `${key.slice(0, -1)}1`,
      '',
    ])
      expect(sameKey(presented, key)).toBe(false);
    expect(sameKey(key, key)).toBe(true);
    expect(sameKey(key.slice(0, 5) + key.slice(5), key)).toBe(true);
    // A configured empty key lets nothing in, an empty header least of all.
    const authenticator = new ServiceAuthenticator({ gateway: '', billing: 'billing-key-0000' });
    const withKey = (value: string) => {
      const metadata = new Metadata();
      metadata.set('x-warden-service-key', value);
      return metadata;
    };
    for (const presented of ['', ' ', 'x'])
      expect(() => authenticator.identify({}, withKey(presented))).toThrow(/x-warden-service-key/);
    expect(() => authenticator.identify({}, new Metadata())).toThrow(/x-warden-service-key/);
    expect(authenticator.identify({}, withKey('billing-key-0000'))).toBe('billing');
  });

  it('refuses to be built for mTLS with no allowed service', () => {
    expect(() => new ServiceAuthenticator({}, true, [])).toThrow(/auth\.allowed_services/);
  });
});

describe('composition roots', () => {
  // Every outbound client of every server and worker goes through clientOptions (directly, or
  // through the runtime's proc.client / proc.peer, which libs/runtime's startup test pins to it),
  // so none can dial plaintext while grpc.tls is on (4 of 5 once did).
  const ROOT = join(import.meta.dirname, '..', '..', '..');
  const CLIENT_CALL =
    /(createAuthzChecker|createSessionResolver|createClient|new Grpc[A-Za-z]+)\(/g;

  it('build every outbound client from clientOptions(config, address)', () => {
    const THROUGH_CLIENT_OPTIONS = /clientOptions\(config|proc\.client\(|proc\.peer\(/;
    let found = 0;
    for (const service of readdirSync(join(ROOT, 'services'))) {
      for (const file of ['main.ts', 'worker.ts']) {
        let source: string;
        try {
          source = readFileSync(join(ROOT, 'services', service, 'src', file), 'utf8');
        } catch {
          continue;
        }
        for (const match of source.matchAll(CLIENT_CALL)) {
          const args = balanced(source, match.index + match[0].length - 1);
          if (args.startsWith('(GrpcServer') || match[1] === 'new GrpcServer') continue;
          found++;
          expect(args, `${service}/src/${file}: ${match[1]}`).toMatch(THROUGH_CLIENT_OPTIONS);
        }
      }
    }
    expect(found).toBeGreaterThanOrEqual(6);
  });
});

/** The parenthesised argument list starting at `open`. */
function balanced(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    else if (source[i] === ')' && --depth === 0) return source.slice(open, i + 1);
  }
  return source.slice(open);
}
