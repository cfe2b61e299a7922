import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import type { Logger } from '@warden/logger';
import { SignJWT } from 'jose';
import type { AccessToken, AccessTokenIssuer, PublicJwk } from '../../application/access-tokens.js';
import type { Clock } from '../../application/ports.js';
import {
  activationTime,
  lapsedBefore,
  needsRotation,
  newestKey,
  publishedKeys,
  signingKey,
  type SigningKeyPolicy,
  type SigningKeyStore,
  type StoredSigningKey,
} from '../../application/signing-keys.js';
import type { Session } from '../../domain/session.js';

export interface AccessTokenSettings extends SigningKeyPolicy {
  /** The `iss` claim. */
  issuer: string;
  /** Seals new private keys; then `previousSecrets` are tried to open older ones. */
  secret: string;
  previousSecrets?: readonly string[];
}

/** The JWT `typ` of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

const SEALED_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const sealingKey = (secret: string, kid: string): Buffer =>
  Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'warden-access-token-keys', kid, 32));

/** AES-256-GCM under a key derived from the secret and the kid, the kid as associated data. */
export function sealPrivateKey(secret: string, kid: string, key: KeyObject): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(secret, kid), iv);
  cipher.setAAD(Buffer.from(kid));
  const der = key.export({ format: 'der', type: 'pkcs8' });
  const body = Buffer.concat([cipher.update(der), cipher.final()]);
  return Buffer.concat([Buffer.of(SEALED_VERSION), iv, cipher.getAuthTag(), body]);
}

/** The private key, or undefined when `sealed` was not sealed for `kid` under `secret`. */
export function openPrivateKey(
  secret: string,
  kid: string,
  sealed: Uint8Array,
): KeyObject | undefined {
  const buffer = Buffer.from(sealed);
  if (buffer.length < 1 + IV_BYTES + TAG_BYTES || buffer[0] !== SEALED_VERSION) return undefined;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealingKey(secret, kid),
      buffer.subarray(1, 1 + IV_BYTES),
    );
    decipher.setAAD(Buffer.from(kid));
    decipher.setAuthTag(buffer.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    const der = Buffer.concat([
      decipher.update(buffer.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
}

/** A new Ed25519 key, its private half sealed, ready for the store. */
export function newSigningKey(secret: string, now: Date): StoredSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = randomBytes(12).toString('base64url');
  const { x } = publicKey.export({ format: 'jwk' });
  return {
    kid,
    publicJwk: { kid, kty: 'OKP', crv: 'Ed25519', x: x!, alg: 'EdDSA', use: 'sig' },
    sealedPrivateKey: sealPrivateKey(secret, kid, privateKey),
    createTime: now,
    retireTime: null,
  };
}

/**
 * Signs access tokens with the current key from the database (cached, re-read by `refresh`), and
 * rotates it on schedule: whichever replica first finds it due creates the next one under a lock,
 * the others pick it up at their next refresh. Retired keys stay published until their tokens lapse.
 */
export class AccessTokenSigner implements AccessTokenIssuer {
  private keys: StoredSigningKey[] = [];
  private current: { kid: string; privateKey: KeyObject } | undefined;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly settings: AccessTokenSettings,
    private readonly clock: Clock,
    private readonly logger: Pick<Logger, 'info' | 'warn'>,
  ) {}

  /** Re-reads the keys; makes the next one when due or when the signing key does not open; drops lapsed keys. */
  async refresh(): Promise<void> {
    const now = this.clock.now();
    let keys = await this.store.list();
    const unopenable = signingKey(keys, now) !== undefined && !this.open(signingKey(keys, now));
    if (
      needsRotation(keys, now, this.settings) ||
      (unopenable && newestKey(keys) === signingKey(keys, now))
    ) {
      const replacing = newestKey(keys)?.kid;
      if (unopenable)
        this.logger.warn(
          { kid: replacing },
          'the access token signing key does not open with access_tokens.signing_secret; rotating',
        );
      const fresh = newSigningKey(this.settings.secret, activationTime(keys, now, this.settings));
      if (await this.store.rotate(fresh, replacing))
        this.logger.info(
          { kid: fresh.kid, retired: replacing },
          'access token signing key rotated',
        );
      keys = await this.store.list();
    }
    await this.store.purgeRetiredBefore(lapsedBefore(now, this.settings));
    this.keys = keys;
    this.loadSigningKey(now);
  }

  /** Follows a scheduled takeover between refreshes: the next key signs from its createTime on. */
  private loadSigningKey(now: Date): void {
    const current = signingKey(this.keys, now);
    if (!current || current.kid === this.current?.kid) return;
    const privateKey = this.open(current);
    if (privateKey) this.current = { kid: current.kid, privateKey };
  }

  async issue(session: Session): Promise<AccessToken> {
    const now = this.clock.now();
    this.loadSigningKey(now);
    const current = this.current;
    if (!current) throw new Error('no access token signing key loaded: refresh() first');
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + Math.max(1, Math.floor(this.settings.ttlMs / 1000));
    const token = await new SignJWT({ sid: session.id, aal: assuranceOf(session) })
      .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.settings.issuer)
      .setSubject(session.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(current.privateKey);
    return { token, expireTime: new Date(exp * 1000) };
  }

  publicKeys(): readonly PublicJwk[] {
    return publishedKeys(this.keys, this.clock.now(), this.settings).map((k) => k.publicJwk);
  }

  private open(key: StoredSigningKey | undefined): KeyObject | undefined {
    if (!key) return undefined;
    for (const secret of [this.settings.secret, ...(this.settings.previousSecrets ?? [])]) {
      const opened = openPrivateKey(secret, key.kid, key.sealedPrivateKey);
      // A key that opens must also be the one published: a row's halves cannot be swapped.
      if (opened && createPublicKey(opened).export({ format: 'jwk' }).x === key.publicJwk.x)
        return opened;
    }
    return undefined;
  }
}

/** The `aal` claim: aal2 for a session CompleteMfa created (a second factor), else aal1. */
const assuranceOf = (session: Session): 'aal1' | 'aal2' =>
  session.assuranceLevel === 'AAL2' ? 'aal2' : 'aal1';
