import { experimental } from '@grpc/grpc-js';
import { createLogger } from '@warden/logger';
import { userv1 } from '@warden/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
// The openssl test CA lives in @warden/testing, which itself depends on this package.
import { createTestPki, type TestPki } from '../../testing/src/pki.js';
import {
  callUnary,
  channelOptions,
  clientOptions,
  createClient,
  type ClientKitOptions,
  type ClientSecurityConfig,
} from '../src/client.js';
import { GrpcServer, serverSecurity, type ServerSecurityConfig } from '../src/server.js';

/*
 * Calls spread over replicas (DESIGN 4b). Every server here is a real grpc-js server of the kit on
 * its own loopback port; every client is the kit's (createClient with clientOptions), so what is
 * proved is what the services do: round_robin over every address the target names, and servers
 * whose connections age out so that a caller re-resolves and finds a replica added later.
 */

const silent = createLogger({ service: 'test', level: 'silent' });
const definition = { getUser: userv1.UserServiceService.getUser };
const KEY = 'round-robin-gateway-key-000';
const started: GrpcServer[] = [];

/** One replica: answers GetUser with its own name as the display name. */
async function replica(
  name: string,
  extra: { maxConnectionAgeMs?: number; tls?: ServerSecurityConfig } = {},
): Promise<{ server: GrpcServer; port: number }> {
  const server = new GrpcServer({
    serviceName: 'user-service',
    logger: silent,
    host: '127.0.0.1',
    port: 0,
    maxMessageBytes: 64 * 1024,
    serviceKeys: { gateway: KEY },
    ...(extra.tls ? serverSecurity(extra.tls) : {}),
    ...(extra.maxConnectionAgeMs
      ? { maxConnectionAgeMs: extra.maxConnectionAgeMs, maxConnectionAgeGraceMs: 1_000 }
      : {}),
  });
  server.addService(definition, {
    getUser: async (request) => ({
      user: userv1.User.fromPartial({
        id: request.userId,
        email: 'a@x.io',
        displayName: name,
        status: 1,
      }),
    }),
  });
  const port = await server.listen();
  started.push(server);
  return { server, port };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.shutdown(500)));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes up to `max` sequential calls (bounded) until `done` says enough; counts who answered. */
async function callUntil(
  options: ClientKitOptions,
  done: (seen: Map<string, number>) => boolean,
  max: number,
  pauseMs = 0,
): Promise<{ seen: Map<string, number>; failures: string[] }> {
  const client = createClient(userv1.UserServiceClient, options);
  const seen = new Map<string, number>();
  const failures: string[] = [];
  try {
    for (let i = 0; i < max && !done(seen); i++) {
      try {
        const response = await callUnary(client.getUser, client, { userId: `u${i}` }, {}, 2_000);
        const name = response.user!.displayName;
        seen.set(name, (seen.get(name) ?? 0) + 1);
      } catch (error) {
        failures.push(String(error));
      }
      if (pauseMs) await sleep(pauseMs);
    }
  } finally {
    client.close();
  }
  return { seen, failures };
}

const both =
  (...names: string[]) =>
  (seen: Map<string, number>) =>
    names.every((name) => (seen.get(name) ?? 0) >= 3);

describe('the kit client dials round_robin with keepalive', () => {
  const insecure: ClientSecurityConfig = {
    grpc: { tls: { enabled: false, ca_file: '', cert_file: '', key_file: '' } },
    auth: { client_key: 'own-key-long-enough-00000' },
  };
  const withTls: ClientSecurityConfig = {
    grpc: { tls: { enabled: true, ca_file: '/ca.crt', cert_file: '/c.crt', key_file: '/c.key' } },
    auth: { client_key: '' },
  };

  it.each([
    ['without TLS', insecure],
    ['with TLS', withTls],
  ])('%s', (_, config) => {
    const kit = clientOptions(config, 'dns:///user-service.warden.svc.cluster.local:50051');
    expect(kit.address).toBe('dns:///user-service.warden.svc.cluster.local:50051');
    const options = channelOptions(userv1.UserServiceClient, kit);
    const serviceConfig = JSON.parse(String(options['grpc.service_config']));
    expect(serviceConfig.loadBalancingConfig).toEqual([{ round_robin: {} }]);
    expect(serviceConfig.methodConfig[0].retryPolicy.retryableStatusCodes).toEqual(['UNAVAILABLE']);
    expect(options['grpc.keepalive_time_ms']).toBe(30_000);
    expect(options['grpc.keepalive_timeout_ms']).toBe(10_000);
    expect(options['grpc.keepalive_permit_without_calls']).toBe(1);
    // The key goes along only without TLS (with it, the certificate is the identity).
    expect(options.interceptors).toHaveLength(config.grpc.tls.enabled ? 0 : 1);
  });
});

describe('calls spread over replicas', () => {
  it('two replicas behind one multi-address target both receive calls', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const { seen, failures } = await callUntil(
      { address: `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, serviceKey: KEY },
      both('a', 'b'),
      200,
    );
    expect(failures).toEqual([]);
    expect(seen.get('a')).toBeGreaterThanOrEqual(3);
    expect(seen.get('b')).toBeGreaterThanOrEqual(3);
  });

  it('a dns:/// target is resolved by DNS and served', async () => {
    const a = await replica('a');
    const { seen, failures } = await callUntil(
      { address: `dns:///localhost:${a.port}`, serviceKey: KEY },
      (s) => (s.get('a') ?? 0) >= 3,
      20,
    );
    expect(failures).toEqual([]);
    expect(seen.get('a')).toBe(3);
  });

  describe('with mTLS', () => {
    let pki: TestPki;
    beforeAll(() => {
      pki = createTestPki();
    });
    afterAll(() => pki.remove());

    it('two TLS replicas behind one target both receive calls', async () => {
      const certificate = pki.issue('user-service');
      const tls = {
        grpc: {
          health_port: 0,
          tls: {
            enabled: true,
            cert_file: certificate.certFile,
            key_file: certificate.keyFile,
            ca_file: certificate.caFile,
          },
        },
        auth: { service_keys: {}, client_key: '', allowed_services: ['gateway'] },
      };
      const a = await replica('a', { tls });
      const b = await replica('b', { tls });
      const gateway = pki.issue('gateway');
      const kit = clientOptions(
        {
          grpc: {
            tls: {
              enabled: true,
              cert_file: gateway.certFile,
              key_file: gateway.keyFile,
              ca_file: gateway.caFile,
            },
          },
          auth: { client_key: '' },
        },
        `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`,
      );
      const { seen, failures } = await callUntil(kit, both('a', 'b'), 200);
      expect(failures).toEqual([]);
      expect(seen.get('a')).toBeGreaterThanOrEqual(3);
      expect(seen.get('b')).toBeGreaterThanOrEqual(3);
    });
  });
});

/*
 * A replica added later. In Kubernetes a new pod of a headless Service is a new address in DNS;
 * a channel only learns it when it resolves again, and grpc-js resolves again when a connection
 * ends (a DNS answer is never pushed). So the test needs a target whose answer changes: a resolver
 * (scheme `replicas:`) that answers like DNS would, with the current list of replica ports, and
 * only when asked. A fixed `ipv4:` list would not do: grpc-js resolves it once, so it could only
 * show a reconnect to an address known from the start, not the discovery of a new one.
 * With the servers' grpc.max_connection_age, connections end, the channel asks again, and the
 * third replica receives calls; without it (the control), nobody asks and it receives none.
 */
const dnsAnswer = { ports: [] as number[], asked: 0 };

class ReplicaListResolver implements experimental.Resolver {
  private pending: NodeJS.Timeout | undefined;
  constructor(
    _target: unknown,
    private readonly listener: experimental.ResolverListener,
  ) {}
  /** Answers asynchronously, at most one lookup in flight (as grpc-js's DNS resolver does). */
  updateResolution(): void {
    if (this.pending) return;
    dnsAnswer.asked += 1;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const endpoints = dnsAnswer.ports.map((port) => ({
        addresses: [{ host: '127.0.0.1', port }],
      }));
      this.listener(experimental.statusOrFromValue(endpoints), {}, null, '');
    }, 20);
  }
  destroy(): void {
    clearTimeout(this.pending);
    this.pending = undefined;
  }
  static getDefaultAuthority(target: { path: string }): string {
    return target.path;
  }
}

describe('a replica added later', () => {
  beforeAll(() => experimental.registerResolver('replicas', ReplicaListResolver));

  async function scenario(maxConnectionAgeMs?: number) {
    const a = await replica('a', { maxConnectionAgeMs });
    const b = await replica('b', { maxConnectionAgeMs });
    dnsAnswer.ports = [a.port, b.port];
    dnsAnswer.asked = 0;
    const client = createClient(userv1.UserServiceClient, {
      address: 'replicas:///user-service',
      serviceKey: KEY,
    });
    const seen = new Map<string, number>();
    const failures: string[] = [];
    const call = async (i: number) => {
      try {
        const response = await callUnary(client.getUser, client, { userId: `u${i}` }, {}, 2_000);
        const name = response.user!.displayName;
        seen.set(name, (seen.get(name) ?? 0) + 1);
      } catch (error) {
        failures.push(String(error));
      }
    };
    try {
      let i = 0;
      for (; i < 200 && !both('a', 'b')(seen); i++) await call(i);
      expect(both('a', 'b')(seen)).toBe(true);
      // The third replica starts; DNS would now answer with three addresses.
      const c = await replica('c', { maxConnectionAgeMs });
      dnsAnswer.ports = [a.port, b.port, c.port];
      const askedBefore = dnsAnswer.asked;
      // Calls for at most ~3 s (bounded), until c has answered three of them.
      for (let j = 0; j < 150 && (seen.get('c') ?? 0) < 3; j++, i++) {
        await call(i);
        await sleep(20);
      }
      return { seen, failures, askedAgain: dnsAnswer.asked - askedBefore };
    } finally {
      client.close();
    }
  }

  it('receives calls once connections age out (grpc.max_connection_age)', async () => {
    const { seen, failures, askedAgain } = await scenario(300);
    expect(askedAgain).toBeGreaterThan(0);
    expect(seen.get('c')).toBeGreaterThanOrEqual(3);
    // Connections closing under load cost the callers nothing (GOAWAY lets calls finish).
    expect(failures).toEqual([]);
  });

  it('control: without a connection age nobody re-resolves and it receives nothing', async () => {
    const { seen, failures, askedAgain } = await scenario(undefined);
    expect(askedAgain).toBe(0);
    expect(seen.get('c') ?? 0).toBe(0);
    expect(failures).toEqual([]);
  });
});
