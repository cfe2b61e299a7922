import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from './load-config.js';
import { authSection, grpcSection } from './sections.js';

const schema = z.object({ grpc: grpcSection, auth: authSection });

const STRONG = {
  gateway: 'gw-3f9a1c2b7d4e5f60718293a4b5c6',
  'user-service': 'us-8e7d6c5b4a39281706f5e4d3c2b1',
};
const CLIENT = 'own-5a4b3c2d1e0f9a8b7c6d5e4f3a2b';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'warden-keys-'));
}

function configFile(): string {
  const file = join(dir(), 'config.yaml');
  writeFileSync(
    file,
    [
      'grpc:',
      '  host: 127.0.0.1',
      '  port: 50051',
      '  max_message_bytes: 65536',
      '  shutdown_grace: 1s',
      '  max_connection_age: 5m',
      '  health_port: 0',
      '  reflection: true',
      '  allow_insecure: false',
      '  tls:',
      '    enabled: false',
      "    cert_file: ''",
      "    key_file: ''",
      "    ca_file: ''",
      'auth:',
      '  service_keys:',
      '    gateway: dev-key-gateway-000000000',
      '    user-service: dev-key-user-service-000',
      '  client_key: dev-key-user-service-000',
      "  service_keys_file: ''",
      '  allowed_services: [gateway]',
    ].join('\n'),
  );
  return file;
}

const load = (env: NodeJS.ProcessEnv) => loadConfig({ schema, file: configFile(), env });

function keysFile(name: string, text: string): string {
  const file = join(dir(), name);
  writeFileSync(file, text);
  return file;
}

describe('unknown WARDEN_* variables', () => {
  it('stop the start, naming every one of them', () => {
    expect(() => load({ WARDEN_GRPC_PROT: '1', WARDEN_FOO: 'x' })).toThrow(
      /^config: unknown variable WARDEN_FOO, WARDEN_GRPC_PROT /,
    );
  });

  it('accept the tooling names, the shared peer addresses and other prefixes', () => {
    const config = load({
      WARDEN_CONFIG_FILE: '/elsewhere.yaml',
      WARDEN_CPU_PROFILE_DIR: '/tmp/p',
      WARDEN_TEST_DATABASE_URL: 'postgres://x',
      WARDEN_BENCH_PROFILE: '1',
      WARDEN_STACK_PACKAGES: '/tmp/pkg',
      WARDEN_USER_SERVICE_ADDRESS: 'user-service:50051',
      WARDEN_AUTHZ_ADDRESS: 'authz-service:50053',
      WARDEN_SESSION_ADDRESS: 'session-service:50052',
      DATABASE_URL_TYPO: 'not ours to judge',
    });
    expect(config.grpc.port).toBe(50051);
  });

  it('know every leaf of the YAML, per-caller keys included', () => {
    const config = load({
      WARDEN_GRPC_HEALTH_PORT: '8081',
      WARDEN_AUTH_SERVICE_KEYS_GATEWAY: 'gateway-key-that-is-long-enough',
      WARDEN_AUTH_ALLOWED_SERVICES: 'gateway, user-service',
    });
    expect(config.grpc.health_port).toBe(8081);
    expect(config.auth.service_keys.gateway).toBe('gateway-key-that-is-long-enough');
    expect(config.auth.allowed_services).toEqual(['gateway', 'user-service']);
  });
});

describe('auth.service_keys given whole', () => {
  it('from WARDEN_AUTH_SERVICE_KEYS (JSON) replaces the map: a new caller, no dev key left', () => {
    const config = load({
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ ...STRONG, 'billing-service': 'b'.repeat(30) }),
    });
    expect(config.auth.service_keys).toEqual({ ...STRONG, 'billing-service': 'b'.repeat(30) });
  });

  it('from auth.service_keys_file, YAML or JSON, replaces the map', () => {
    const yaml = keysFile(
      'keys.yaml',
      `gateway: ${STRONG.gateway}\nuser-service: ${STRONG['user-service']}\n`,
    );
    expect(load({ WARDEN_AUTH_SERVICE_KEYS_FILE: yaml }).auth.service_keys).toEqual(STRONG);
    const json = keysFile('keys.json', JSON.stringify(STRONG));
    expect(load({ WARDEN_AUTH_SERVICE_KEYS_FILE: json }).auth.service_keys).toEqual(STRONG);
  });

  it('refuses both sources at once, and a whole map mixed with a per-caller variable', () => {
    const file = keysFile('keys.yaml', `gateway: ${STRONG.gateway}\n`);
    expect(() =>
      load({
        WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(STRONG),
        WARDEN_AUTH_SERVICE_KEYS_FILE: file,
      }),
    ).toThrow(/set either WARDEN_AUTH_SERVICE_KEYS or WARDEN_AUTH_SERVICE_KEYS_FILE, not both/);
    expect(() =>
      load({
        WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(STRONG),
        WARDEN_AUTH_SERVICE_KEYS_GATEWAY: 'x'.repeat(30),
      }),
    ).toThrow(/WARDEN_AUTH_SERVICE_KEYS_GATEWAY cannot be combined with the whole map/);
  });

  it('reports a malformed value by its shape, never quoting the secret', () => {
    const secret = 'sup3r-secret-value-do-not-print';
    for (const raw of [
      `{"gateway": "${secret}"`,
      `["${secret}"]`,
      `{"gateway": 42, "x": "${secret}"}`,
    ]) {
      let message = '';
      try {
        load({ WARDEN_AUTH_SERVICE_KEYS: raw });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/auth\.service_keys \(from WARDEN_AUTH_SERVICE_KEYS\): must be JSON/);
      expect(message).not.toContain(secret);
    }
    const bad = keysFile('bad.yaml', `gateway: [${secret}\n`);
    expect(() => load({ WARDEN_AUTH_SERVICE_KEYS_FILE: bad })).toThrow(/must be YAML or JSON/);
    expect(() => load({ WARDEN_AUTH_SERVICE_KEYS_FILE: bad })).not.toThrow(new RegExp(secret));
  });

  it('names an unreadable keys file by its path', () => {
    expect(() => load({ WARDEN_AUTH_SERVICE_KEYS_FILE: '/nonexistent/keys.yaml' })).toThrow(
      /WARDEN_AUTH_SERVICE_KEYS_FILE: cannot read \/nonexistent\/keys\.yaml \(ENOENT\)/,
    );
  });

  it('points a too-short key of the whole map at the variable that gave it', () => {
    expect(() => load({ WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ gateway: 'short' }) })).toThrow(
      /auth\.service_keys\.gateway \(from WARDEN_AUTH_SERVICE_KEYS\): service keys need at least 16/,
    );
  });

  it('takes a list of keys for a caller whose key is being rotated', () => {
    const next = 'gw-next-0a1b2c3d4e5f60718293a4b5';
    const keys = { ...STRONG, gateway: [STRONG.gateway, next] };
    expect(load({ WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(keys) }).auth.service_keys).toEqual(
      keys,
    );
    const file = keysFile('rotating.yaml', `gateway:\n  - ${STRONG.gateway}\n  - ${next}\n`);
    expect(load({ WARDEN_AUTH_SERVICE_KEYS_FILE: file }).auth.service_keys.gateway).toEqual([
      STRONG.gateway,
      next,
    ]);
    expect(() =>
      load({
        NODE_ENV: 'production',
        WARDEN_AUTH_CLIENT_KEY: CLIENT,
        WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({
          gateway: [STRONG.gateway, 'dev-key-gateway-000000000'],
        }),
      }),
    ).toThrow(/refuses the key of gateway \(a public dev-key-\* key\)$/);
  });

  it('refuses two callers sharing one key, naming them', () => {
    expect(() =>
      load({
        WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({
          gateway: 'k'.repeat(30),
          other: 'k'.repeat(30),
        }),
      }),
    ).toThrow(/auth\.service_keys\.other .*same key as gateway/);
  });

  it('refuses a caller name that is not a service name', () => {
    expect(() =>
      load({ WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ 'Not A Name': 'k'.repeat(30) }) }),
    ).toThrow(/auth\.service_keys/);
  });
});

describe('NODE_ENV=production', () => {
  const production = (env: NodeJS.ProcessEnv) => load({ NODE_ENV: 'production', ...env });

  it('refuses the dev keys of config.yaml, naming the callers and never the keys', () => {
    let message = '';
    try {
      production({ WARDEN_AUTH_CLIENT_KEY: CLIENT });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'config: auth.service_keys: NODE_ENV=production refuses the key of gateway (a public dev-key-* key), user-service (a public dev-key-* key)',
    );
    expect(message).not.toContain('dev-key-gateway');
  });

  it('refuses a key shorter than 24 characters', () => {
    expect(() =>
      production({
        WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ ...STRONG, gateway: 'twenty-three-chars-long' }),
        WARDEN_AUTH_CLIENT_KEY: CLIENT,
      }),
    ).toThrow(
      /auth\.service_keys \(from WARDEN_AUTH_SERVICE_KEYS\): NODE_ENV=production refuses the key of gateway \(shorter than 24 characters\)$/,
    );
  });

  it("refuses the service's own dev or short client key", () => {
    const keys = { WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(STRONG) };
    expect(() => production(keys)).toThrow(
      /auth\.client_key: NODE_ENV=production refuses this service's own key \(a public dev-key-\* key\)/,
    );
    expect(() => production({ ...keys, WARDEN_AUTH_CLIENT_KEY: 'short-client-key-16' })).toThrow(
      /auth\.client_key \(from WARDEN_AUTH_CLIENT_KEY\): .*shorter than 24 characters/,
    );
  });

  it('starts with strong keys from the env or a keys file (plaintext allowed behind a mesh)', () => {
    const file = keysFile('keys.yaml', JSON.stringify(STRONG));
    const mesh = { WARDEN_GRPC_ALLOW_INSECURE: 'true', WARDEN_AUTH_CLIENT_KEY: CLIENT };
    expect(
      production({ WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(STRONG), ...mesh }).auth.service_keys,
    ).toEqual(STRONG);
    expect(production({ WARDEN_AUTH_SERVICE_KEYS_FILE: file, ...mesh }).auth.service_keys).toEqual(
      STRONG,
    );
  });

  it('refuses plaintext gRPC unless grpc.allow_insecure says a mesh does mTLS', () => {
    const strong = {
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify(STRONG),
      WARDEN_AUTH_CLIENT_KEY: CLIENT,
    };
    for (const env of [strong, { ...strong, WARDEN_GRPC_ALLOW_INSECURE: 'false' }])
      expect(() => production(env)).toThrow(
        'config: grpc.tls.enabled (set WARDEN_GRPC_TLS_ENABLED): NODE_ENV=production refuses plaintext gRPC; turn on mTLS, or set WARDEN_GRPC_ALLOW_INSECURE=true only behind a mesh that does mTLS',
      );
    expect(production({ ...strong, WARDEN_GRPC_ALLOW_INSECURE: 'true' }).grpc.allow_insecure).toBe(
      true,
    );
    // Weak keys stay refused behind a mesh too, and first: they are the worse mistake.
    expect(() => production({ WARDEN_GRPC_ALLOW_INSECURE: 'true' })).toThrow(
      /auth\.service_keys: NODE_ENV=production refuses the key of gateway/,
    );
    expect(load({ NODE_ENV: 'development' }).grpc.allow_insecure).toBe(false);
  });

  it('does not judge keys that mTLS leaves unused', () => {
    const config = production({
      WARDEN_GRPC_TLS_ENABLED: 'true',
      WARDEN_GRPC_TLS_CERT_FILE: '/tls/tls.crt',
      WARDEN_GRPC_TLS_KEY_FILE: '/tls/tls.key',
      WARDEN_GRPC_TLS_CA_FILE: '/tls/ca.crt',
    });
    expect(config.grpc.tls.enabled).toBe(true);
  });

  it('leaves dev keys alone outside production', () => {
    expect(load({ NODE_ENV: 'development' }).auth.service_keys.gateway).toBe(
      'dev-key-gateway-000000000',
    );
  });
});

describe('grpc.tls', () => {
  it('needs at least one allowed service, or no caller could be identified', () => {
    expect(() =>
      load({
        WARDEN_GRPC_TLS_ENABLED: 'true',
        WARDEN_GRPC_TLS_CERT_FILE: '/c',
        WARDEN_GRPC_TLS_KEY_FILE: '/k',
        WARDEN_GRPC_TLS_CA_FILE: '/ca',
        WARDEN_AUTH_ALLOWED_SERVICES: '',
      }),
    ).toThrow(
      /auth\.allowed_services \(set WARDEN_AUTH_ALLOWED_SERVICES\): required when grpc\.tls\.enabled/,
    );
  });

  it('needs a certificate, its key and the CA when enabled', () => {
    expect(() =>
      load({
        WARDEN_GRPC_TLS_ENABLED: 'true',
        WARDEN_GRPC_TLS_CERT_FILE: '/c',
        WARDEN_GRPC_TLS_KEY_FILE: '/k',
      }),
    ).toThrow(/grpc\.tls\.ca_file \(set WARDEN_GRPC_TLS_CA_FILE\): required when tls\.enabled/);
  });
});
