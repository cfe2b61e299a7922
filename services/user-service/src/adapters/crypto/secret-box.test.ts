import { describe, expect, it } from 'vitest';
import { loadUserConfig } from '../../config.js';
import { MIN_MFA_KEY_LENGTH, SecretBox, secretBoxFrom } from './secret-box.js';

const KEY = 'k'.repeat(MIN_MFA_KEY_LENGTH);
const OLD_KEY = 'o'.repeat(MIN_MFA_KEY_LENGTH);
const OWNER = '0190c7a6-0000-7000-8000-000000000001';

describe('SecretBox', () => {
  it('seals a secret so that only the same key and owner open it, a fresh IV each time', () => {
    const box = new SecretBox(KEY);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', OWNER);
    expect(sealed).toMatch(/^v1\.[\w-]{8}\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.seal('JBSWY3DPEHPK3PXP', OWNER)).not.toBe(sealed);
    expect(box.open(sealed, OWNER)).toBe('JBSWY3DPEHPK3PXP');
    // Another owner's row, another key, or an altered byte: refused, never a wrong plaintext.
    expect(() => box.open(sealed, '0190c7a6-0000-7000-8000-000000000002')).toThrow();
    expect(() => new SecretBox(OLD_KEY).open(sealed, OWNER)).toThrow(/not held/);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), OWNER)).toThrow();
    expect(() => box.open('garbage', OWNER)).toThrow(/unknown format/);
  });

  it('keeps secrets sealed under a previous key readable after a rotation, sealing anew under the current', () => {
    const sealedOld = new SecretBox(OLD_KEY).seal('secret', OWNER);
    const rotated = new SecretBox(KEY, [OLD_KEY]);
    expect(rotated.open(sealedOld, OWNER)).toBe('secret');
    const resealed = rotated.seal('secret', OWNER);
    expect(resealed.split('.')[1]).toBe(rotated.currentKeyId);
    expect(resealed.split('.')[1]).not.toBe(sealedOld.split('.')[1]);
  });
});

describe('mfa.encryption_key', () => {
  const config = (encryption_key: string, previous_encryption_keys: string[] = []) => ({
    encryption_key,
    previous_encryption_keys,
  });

  it('refuses in production a dev-* key, a short key, or a short previous key, naming the setting only', () => {
    const production = { production: true };
    expect(() => secretBoxFrom(config(`dev-${KEY}`), production)).toThrow(
      /mfa\.encryption_key .*refuses a public dev-\* key/,
    );
    expect(() => secretBoxFrom(config('short'), production)).toThrow(/shorter than 32/);
    expect(() => secretBoxFrom(config(KEY, ['short']), production)).toThrow(
      /previous_encryption_keys\[0\]/,
    );
    expect(() => secretBoxFrom(config('short'), production)).not.toThrow(/short'/);
    expect(secretBoxFrom(config(KEY, [OLD_KEY]), production)).toBeInstanceOf(SecretBox);
  });

  it('takes the dev default outside production (secrets survive restarts), never an empty key', () => {
    const defaults = loadUserConfig({});
    expect(defaults.mfa.encryption_key).toMatch(/^dev-/);
    expect(secretBoxFrom(defaults.mfa, { production: false })).toBeInstanceOf(SecretBox);
    expect(() => secretBoxFrom(config(''), { production: false })).toThrow(/required/);
  });

  it('makes the process refuse to start with the dev key under NODE_ENV=production', () => {
    // Otherwise a valid production config: real service keys, plaintext allowed behind a mesh.
    const key = (name: string) => `${name}-${'x'.repeat(40)}`;
    const production = {
      NODE_ENV: 'production',
      WARDEN_GRPC_ALLOW_INSECURE: 'true',
      WARDEN_IDEMPOTENCY_SECRET: 'i'.repeat(40),
      WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({
        'user-service': key('user'),
        'session-service': key('session'),
        'authz-service': key('authz'),
        gateway: key('gateway'),
      }),
      WARDEN_AUTH_CLIENT_KEY: key('user'),
    };
    expect(() => loadUserConfig(production)).toThrow(/mfa\.encryption_key/);
    const config = loadUserConfig({
      ...production,
      WARDEN_MFA_ENCRYPTION_KEY: KEY,
      WARDEN_MFA_PREVIOUS_ENCRYPTION_KEYS: `["${OLD_KEY}"]`,
    });
    expect(config.mfa.previous_encryption_keys).toEqual([OLD_KEY]);
  });
});
