import { describe, expect, it } from 'vitest';
import { DEV_SIGNING_SECRET, loadSessionConfig, signingSecret } from './config.js';

describe('session-service config', () => {
  it('loads the defaults as milliseconds', () => {
    const config = loadSessionConfig({});
    expect(config.grpc.port).toBe(50052);
    expect(config.metrics.port).toBe(9452);
    expect(config.database.schema).toBe('session_service');
    expect(config.session).toEqual({
      absolute_ttl: 86_400_000,
      idle_timeout: 1_800_000,
      max_per_user: 10,
      token_bytes: 32,
      last_seen_flush_interval: 1_000,
    });
    expect(config.watch.allowed_services).toEqual(['gateway']);
    expect(config.auth.service_keys.gateway).toBe('dev-key-gateway-000000000');
  });

  it('takes overrides from the environment', () => {
    const config = loadSessionConfig({
      WARDEN_GRPC_PORT: '0',
      WARDEN_SESSION_IDLE_TIMEOUT: '2s',
      WARDEN_WATCH_ALLOWED_SERVICES: 'gateway,audit',
      DATABASE_URL: 'postgres://u@db:5432/warden',
    });
    expect(config.grpc.port).toBe(0);
    expect(config.session.idle_timeout).toBe(2_000);
    expect(config.watch.allowed_services).toEqual(['gateway', 'audit']);
    expect(config.database.url).toBe('postgres://u@db:5432/warden');
  });

  it.each([
    [{ WARDEN_SESSION_TOKEN_BYTES: '16' }, /session\.token_bytes.*WARDEN_SESSION_TOKEN_BYTES/],
    [
      { WARDEN_SESSION_IDLE_TIMEOUT: '48h' },
      /session\.idle_timeout.*must not exceed session\.absolute_ttl/,
    ],
    [{ WARDEN_SESSION_ABSOLUTE_TTL: 'soon' }, /session\.absolute_ttl/],
    [{ WARDEN_SESSION_LAST_SEEN_FLUSH_INTERVAL: '1h' }, /session\.last_seen_flush_interval/],
    [{ WARDEN_SESSION_MAX_PER_USER: '0' }, /session\.max_per_user/],
    [{ WARDEN_CACHE_MAX_ENTRIES: '-1' }, /cache\.max_entries/],
    [{ WARDEN_USER_SERVICE_ADDRESS: 'nohost' }, /user_service\.address/],
  ])('refuses %o naming the key', (env, message) => {
    expect(() => loadSessionConfig(env)).toThrow(message);
  });

  describe('access_tokens', () => {
    // A production config that passes every other check: strong keys, plaintext allowed by a mesh.
    const PRODUCTION = {
      NODE_ENV: 'production',
      WARDEN_GRPC_ALLOW_INSECURE: 'true',
      WARDEN_AUTH_CLIENT_KEY: 'c'.repeat(32),
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({
        gateway: 'g'.repeat(32),
        'session-service': 'c'.repeat(32),
      }),
    };

    it('are off by default: 5 min tokens, daily rotation, keys re-read every 30 s', () => {
      const config = loadSessionConfig({});
      expect(config.access_tokens).toMatchObject({
        enabled: false,
        issuer: 'warden',
        ttl: 300_000,
        rotation: 86_400_000,
        key_refresh: 30_000,
      });
      expect(signingSecret(config.access_tokens)).toBe(DEV_SIGNING_SECRET);
      expect(config.revocations.allowed_services).toEqual(['gateway']);
    });

    it.each([
      [{}, /access_tokens\.signing_secret.*WARDEN_ACCESS_TOKENS_SIGNING_SECRET/],
      [{ WARDEN_ACCESS_TOKENS_SIGNING_SECRET: 'short' }, /at least 32 characters/],
      [{ WARDEN_ACCESS_TOKENS_SIGNING_SECRET: DEV_SIGNING_SECRET }, /not dev- ones/],
      [
        {
          WARDEN_ACCESS_TOKENS_SIGNING_SECRET: 'x'.repeat(40),
          WARDEN_ACCESS_TOKENS_PREVIOUS_SIGNING_SECRETS: 'dev-old',
        },
        /access_tokens\.previous_signing_secrets/,
      ],
    ])(
      'NODE_ENV=production with access tokens refuses a weak signing secret (%j)',
      (env, message) => {
        expect(() =>
          loadSessionConfig({
            ...PRODUCTION,
            WARDEN_ACCESS_TOKENS_ENABLED: 'true',
            ...env,
          }),
        ).toThrow(message);
      },
    );

    it('NODE_ENV=production takes a real signing secret, and ignores it with access tokens off', () => {
      const secret = 'k'.repeat(44);
      const on = loadSessionConfig({
        ...PRODUCTION,
        WARDEN_ACCESS_TOKENS_ENABLED: 'true',
        WARDEN_ACCESS_TOKENS_SIGNING_SECRET: secret,
      });
      expect(signingSecret(on.access_tokens)).toBe(secret);
      expect(loadSessionConfig(PRODUCTION).access_tokens.enabled).toBe(false);
    });

    it('refuses a key refresh not shorter than the rotation', () => {
      expect(() =>
        loadSessionConfig({
          WARDEN_ACCESS_TOKENS_ROTATION: '1m',
          WARDEN_ACCESS_TOKENS_KEY_REFRESH: '1m',
        }),
      ).toThrow(/access_tokens\.key_refresh.*shorter than access_tokens\.rotation/);
    });
  });
});
