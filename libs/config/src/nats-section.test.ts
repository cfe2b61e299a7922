import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from './load-config.js';
import { natsSection } from './sections.js';

const base = {
  url: 'nats://127.0.0.1:4222',
  user: '',
  password: '',
  credentials_file: '',
  tls: { enabled: false, ca_file: '', cert_file: '', key_file: '' },
};

/** The first issue's path and message, or 'ok'. */
function verdict(overrides: Partial<typeof base>): string {
  const result = natsSection.safeParse({ ...base, ...overrides });
  if (result.success) return 'ok';
  const issue = result.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('natsSection', () => {
  it('accepts no credentials (an open dev server), a user with its password, or a creds file', () => {
    expect(verdict({})).toBe('ok');
    expect(verdict({ user: 'user-service', password: 'secret' })).toBe('ok');
    expect(verdict({ credentials_file: '/etc/warden/nats/user-service.creds' })).toBe('ok');
  });

  it('refuses a user without a password, and a password without a user', () => {
    expect(verdict({ user: 'user-service' })).toBe('password: required when nats.user is set');
    expect(verdict({ password: 'secret' })).toBe('user: required when nats.password is set');
  });

  it('refuses a creds file together with a user', () => {
    expect(
      verdict({ user: 'user-service', password: 'secret', credentials_file: '/x.creds' }),
    ).toBe('credentials_file: give nats.credentials_file or nats.user, not both');
  });

  it('takes TLS with a CA, and a client certificate only with its key', () => {
    const tls = { enabled: true, ca_file: '/ca.pem', cert_file: '', key_file: '' };
    expect(verdict({ tls })).toBe('ok');
    expect(verdict({ tls: { ...tls, cert_file: '/c.pem', key_file: '/k.pem' } })).toBe('ok');
    expect(verdict({ tls: { ...tls, cert_file: '/c.pem' } })).toBe(
      'tls.key_file: cert_file and key_file go together',
    );
    expect(verdict({ tls: { ...tls, key_file: '/k.pem' } })).toBe(
      'tls.cert_file: cert_file and key_file go together',
    );
  });

  it('takes stream_replicas from 1 to 5 (1 when absent), nothing else', () => {
    const replicas = (value: unknown) => {
      const result = natsSection.safeParse({ ...base, stream_replicas: value });
      return result.success ? result.data.stream_replicas : result.error.issues[0]!.path.join('.');
    };
    expect(natsSection.parse(base).stream_replicas).toBe(1);
    expect(replicas(3)).toBe(3);
    expect(replicas(0)).toBe('stream_replicas');
    expect(replicas(6)).toBe('stream_replicas');
    expect(replicas(2.5)).toBe('stream_replicas');
  });

  it('refuses TLS files while TLS is off, rather than silently connecting in plaintext', () => {
    expect(verdict({ tls: { ...base.tls, ca_file: '/ca.pem' } })).toBe(
      'tls.enabled: TLS files are set but nats.tls.enabled is false',
    );
  });
});

describe('nats settings from the environment', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'warden-nats-config-')), 'config.yaml');
  writeFileSync(
    file,
    [
      'nats:',
      '  url: nats://127.0.0.1:4222',
      "  user: ''",
      "  password: ''",
      "  credentials_file: ''",
      '  tls:',
      '    enabled: false',
      "    ca_file: ''",
      "    cert_file: ''",
      "    key_file: ''",
    ].join('\n'),
  );
  const load = (env: NodeJS.ProcessEnv) =>
    loadConfig({ schema: z.object({ nats: natsSection }), file, env });

  it('reads the user and password a Secret gives', () => {
    const { nats } = load({ WARDEN_NATS_USER: 'user-service', WARDEN_NATS_PASSWORD: 's3cret' });
    expect(nats).toMatchObject({ user: 'user-service', password: 's3cret' });
  });

  it('names the variable to set when the password is missing', () => {
    expect(() => load({ WARDEN_NATS_USER: 'user-service' })).toThrow(
      'config: nats.password (set WARDEN_NATS_PASSWORD): required when nats.user is set',
    );
  });
});
