import { describe, expect, it } from 'vitest';
import { loadUserConfig } from './config.js';

describe('user-service config', () => {
  it('loads config.yaml with the documented defaults', () => {
    const config = loadUserConfig({});
    expect(config.grpc.port).toBe(50051);
    expect(config.metrics.port).toBe(9451);
    expect(config.database.schema).toBe('user_service');
    expect(config.password.hashing).toEqual({
      profile: 'standard',
      memory_kib: 19456,
      iterations: 2,
      parallelism: 1,
      max_concurrent: 0,
      max_queue: 256,
    });
    expect(config.password.breach_check.enabled).toBe(false);
    expect(config.lockout).toEqual({ max_failures: 5, window: 15 * 60_000 });
    expect(config.idempotency).toEqual({ ttl: 24 * 3_600_000, secret: '', previous_secrets: [] });
    expect(Object.keys(config.auth.service_keys).sort()).toEqual([
      'authz-service',
      'gateway',
      'session-service',
      'user-service',
    ]);
  });

  it('takes overrides from WARDEN_* and DATABASE_URL', () => {
    const config = loadUserConfig({
      WARDEN_GRPC_PORT: '6000',
      DATABASE_URL: 'postgres://db/x',
      WARDEN_LOCKOUT_WINDOW: '5m',
    });
    expect(config.grpc.port).toBe(6000);
    expect(config.database.url).toBe('postgres://db/x');
    expect(config.lockout.window).toBe(300_000);
  });

  it('names the notifier services (the gateway in dev), from a list or comma-separated', () => {
    expect(loadUserConfig({}).auth.notifier_services).toEqual(['gateway']);
    expect(
      loadUserConfig({ WARDEN_AUTH_NOTIFIER_SERVICES: 'mailer, gateway' }).auth.notifier_services,
    ).toEqual(['mailer', 'gateway']);
    expect(loadUserConfig({ WARDEN_AUTH_NOTIFIER_SERVICES: '' }).auth.notifier_services).toEqual(
      [],
    );
  });

  it('gives privileged changes a 15 min session age by default, at least 1 s', () => {
    expect(loadUserConfig({}).auth.privileged_session_max_age).toBe(15 * 60_000);
    expect(
      loadUserConfig({ WARDEN_AUTH_PRIVILEGED_SESSION_MAX_AGE: '5m' }).auth
        .privileged_session_max_age,
    ).toBe(300_000);
    expect(() => loadUserConfig({ WARDEN_AUTH_PRIVILEGED_SESSION_MAX_AGE: '0s' })).toThrow(
      /privileged_session_max_age/,
    );
  });

  it('takes the idempotency secret and the previous ones (a JSON list or comma-separated) from env', () => {
    const secret = 's'.repeat(44);
    expect(
      loadUserConfig({
        WARDEN_IDEMPOTENCY_SECRET: secret,
        WARDEN_IDEMPOTENCY_PREVIOUS_SECRETS: `["${'a'.repeat(44)}", "${'b'.repeat(44)}"]`,
      }).idempotency,
    ).toMatchObject({ secret, previous_secrets: ['a'.repeat(44), 'b'.repeat(44)] });
    expect(
      loadUserConfig({ WARDEN_IDEMPOTENCY_PREVIOUS_SECRETS: 'old-one, older-one' }).idempotency
        .previous_secrets,
    ).toEqual(['old-one', 'older-one']);
  });

  it('refuses argon2 parameters below the standard unless the profile is test', () => {
    expect(() => loadUserConfig({ WARDEN_PASSWORD_HASHING_MEMORY_KIB: '1024' })).toThrow(
      /password\.hashing\.profile.*profile "test"/,
    );
    expect(
      loadUserConfig({
        WARDEN_PASSWORD_HASHING_MEMORY_KIB: '1024',
        WARDEN_PASSWORD_HASHING_PROFILE: 'test',
      }).password.hashing.memory_kib,
    ).toBe(1024);
  });

  it('keeps audit entries 400 days by default, at least a day (audit.retention)', () => {
    expect(loadUserConfig({}).audit.retention).toBe(400 * 86_400_000);
    expect(loadUserConfig({ WARDEN_AUDIT_RETENTION: '30d' }).audit.retention).toBe(30 * 86_400_000);
    expect(() => loadUserConfig({ WARDEN_AUDIT_RETENTION: '12h' })).toThrow(
      /audit\.retention.*at least 1d/,
    );
  });

  it('names the key of a bad value', () => {
    expect(() => loadUserConfig({ WARDEN_LOCKOUT_MAX_FAILURES: '0' })).toThrow(
      /lockout\.max_failures.*WARDEN_LOCKOUT_MAX_FAILURES/,
    );
  });

  it("exports no spans by default; takes a collector from WARDEN_ or OpenTelemetry's variable", () => {
    expect(loadUserConfig({}).telemetry.otlp_endpoint).toBe('');
    expect(
      loadUserConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).telemetry
        .otlp_endpoint,
    ).toBe('http://otel-collector:4318');
    expect(
      loadUserConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        WARDEN_TELEMETRY_OTLP_ENDPOINT: 'https://b:4318',
      }).telemetry.otlp_endpoint,
    ).toBe('https://b:4318');
    expect(() => loadUserConfig({ WARDEN_TELEMETRY_OTLP_ENDPOINT: 'otel:4318' })).toThrow(
      /telemetry\.otlp_endpoint/,
    );
  });
});
