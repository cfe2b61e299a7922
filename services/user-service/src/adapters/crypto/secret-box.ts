import type { SecretSealer } from '../../application/ports.js';
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** Production keys are at least this long: `openssl rand -base64 32` gives 44 characters. */
export const MIN_MFA_KEY_LENGTH = 32;
const DEV_KEY_PREFIX = 'dev-';
const SCHEME = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface BoxKey {
  id: string;
  key: Buffer;
}

/**
 * Secrets at rest (TOTP secrets) under a server key that never reaches the database
 * (`mfa.encryption_key`): AES-256-GCM with a fresh 12-byte IV each time, the owner's id as
 * associated data (a ciphertext copied to another user's row does not open). Sealed form:
 * `v1.<key id>.<iv>.<ciphertext+tag>` (base64url), the key id being a hash of the key, so
 * `mfa.previous_encryption_keys` keep older rows readable after a rotation; rows are sealed again
 * under the current key when next written.
 */
export class SecretBox implements SecretSealer {
  private readonly keys: BoxKey[];

  constructor(secret: string, previousSecrets: readonly string[] = []) {
    if (secret === '') throw new Error('an MFA encryption key cannot be empty');
    this.keys = [secret, ...previousSecrets.filter((s) => s !== '' && s !== secret)].map(deriveKey);
  }

  /** The id of the key new seals use. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  seal(plaintext: string, ownerId: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(ownerId, 'utf8'));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return [SCHEME, id, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Throws when the key is not held or the ciphertext was altered (never a wrong plaintext). */
  open(sealed: string, ownerId: string): string {
    const [scheme, id, ivText, bodyText, ...rest] = sealed.split('.');
    if (scheme !== SCHEME || !id || !ivText || !bodyText || rest.length > 0)
      throw new Error('sealed secret: unknown format');
    const box = this.keys.find((k) => k.id === id);
    if (!box)
      throw new Error(
        `sealed secret: key ${id} is not held (add it to mfa.previous_encryption_keys)`,
      );
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', box.key, Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(ownerId, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  }
}

function deriveKey(secret: string): BoxKey {
  const material = Buffer.from(secret, 'utf8');
  return {
    id: createHash('sha256').update(material).digest('base64url').slice(0, 8),
    key: Buffer.from(hkdfSync('sha256', material, '', 'warden-mfa secret-box v1', 32)),
  };
}

/**
 * The box from user-service's `mfa` config. NODE_ENV=production refuses a public dev key
 * (`dev-...`) or one shorter than {@link MIN_MFA_KEY_LENGTH}, as it does service keys; unlike the
 * idempotency secret there is no random fallback: sealed secrets must outlive the process.
 * Messages name the setting, never a key.
 */
export function secretBoxFrom(
  config: { encryption_key: string; previous_encryption_keys: readonly string[] },
  options: { production: boolean },
): SecretBox {
  const key = config.encryption_key.trim();
  const previous = config.previous_encryption_keys.map((s) => s.trim()).filter((s) => s !== '');
  if (key === '')
    throw new Error(
      'config: mfa.encryption_key (set WARDEN_MFA_ENCRYPTION_KEY): required; TOTP secrets are encrypted under it',
    );
  if (options.production) {
    const weakness = (k: string) =>
      k.startsWith(DEV_KEY_PREFIX)
        ? `a public ${DEV_KEY_PREFIX}* key`
        : k.length < MIN_MFA_KEY_LENGTH
          ? `shorter than ${MIN_MFA_KEY_LENGTH} characters`
          : undefined;
    const own = weakness(key);
    if (own)
      throw new Error(
        `config: mfa.encryption_key (set WARDEN_MFA_ENCRYPTION_KEY): NODE_ENV=production refuses ${own}`,
      );
    const old = previous.findIndex((k) => weakness(k) !== undefined);
    if (old >= 0)
      throw new Error(
        `config: mfa.previous_encryption_keys[${old}] (set WARDEN_MFA_PREVIOUS_ENCRYPTION_KEYS): NODE_ENV=production refuses ${weakness(previous[old]!)}`,
      );
  }
  return new SecretBox(key, previous);
}
