import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** Production secrets are at least this long: `openssl rand -base64 32` gives 44 characters. */
export const MIN_IDEMPOTENCY_SECRET_LENGTH = 32;

const SCHEME = 'v2';
const SEALED_VERSION = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The keys of idempotency records, all derived from a server secret (`idempotency.secret`).
 *
 * A record's fingerprint and its encrypted response once depended only on the caller's request_id,
 * so a database dump plus a request id decrypted a StartSession token and tested passwords at HMAC
 * speed. Now both need the server secret, which never reaches the database:
 * - fingerprint = "v2.<key id>." + HMAC-SHA256(HKDF(secret), keyHash + fingerprint input); keyHash
 *   is bound in so equal requests under different request ids do not show as equal rows;
 * - response = AES-256-GCM under HKDF(secret, salt = request_id, info = keyHash), keyHash as
 *   associated data: each record has its own key, a row moved to another address does not open,
 *   and even the secret without the request id (which only the caller holds) opens nothing.
 * The key id names which secret wrote a record, so `previous_secrets` keep records readable across
 * a rotation. A record of the old scheme or of a secret no longer held is unreadable: the caller
 * treats it as absent (it is overwritten) rather than failing the request.
 */
export class IdempotencyKeyring {
  private readonly keys: RecordKeys[];

  constructor(secret: string, previousSecrets: readonly string[] = []) {
    if (secret === '') throw new Error('an idempotency secret cannot be empty');
    this.keys = [secret, ...previousSecrets.filter((s) => s !== '' && s !== secret)].map(
      (s) => new RecordKeys(Buffer.from(s, 'utf8')),
    );
  }

  /** A secret of this process only: records replay within it, not after a restart or elsewhere. */
  static random(): IdempotencyKeyring {
    return new IdempotencyKeyring(randomBytes(32).toString('base64'));
  }

  /** The current secret, which writes every new record. */
  get current(): RecordKeys {
    return this.keys[0]!;
  }

  /** The keys that wrote `fingerprint`; undefined for an old-scheme record or an unknown secret. */
  writerOf(fingerprint: string): RecordKeys | undefined {
    const [scheme, id] = fingerprint.split('.', 2);
    if (scheme !== SCHEME) return undefined;
    return this.keys.find((k) => k.id === id);
  }
}

/** The keys one secret gives: its id, the fingerprint key, and per-record response keys. */
export class RecordKeys {
  readonly id: string;
  private readonly fingerprintKey: Buffer;

  constructor(private readonly secret: Buffer) {
    this.id = createHmac('sha256', secret)
      .update('warden-idempotency key id')
      .digest('hex')
      .slice(0, 12);
    this.fingerprintKey = derive(secret, 'warden-idempotency', 'fingerprint v2');
  }

  fingerprint(keyHash: string, input: string): string {
    const mac = createHmac('sha256', this.fingerprintKey)
      .update(`${keyHash}\n${input}`)
      .digest('base64url');
    return `${SCHEME}.${this.id}.${mac}`;
  }

  /** Constant-time comparison with a stored fingerprint. */
  matches(stored: string, keyHash: string, input: string): boolean {
    const expected = Buffer.from(this.fingerprint(keyHash, input));
    const actual = Buffer.from(stored);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  seal(requestId: string, keyHash: string, plain: Uint8Array): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.responseKey(requestId, keyHash), iv);
    cipher.setAAD(Buffer.from(keyHash));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.of(SEALED_VERSION), iv, cipher.getAuthTag(), body]);
  }

  /** The plain response, or undefined when it was not sealed by this key for this record. */
  open(requestId: string, keyHash: string, sealed: Uint8Array): Uint8Array | undefined {
    const buffer = Buffer.from(sealed);
    if (buffer.length < 1 + IV_BYTES + TAG_BYTES || buffer[0] !== SEALED_VERSION) return undefined;
    try {
      const iv = buffer.subarray(1, 1 + IV_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', this.responseKey(requestId, keyHash), iv);
      decipher.setAAD(Buffer.from(keyHash));
      decipher.setAuthTag(buffer.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(buffer.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      return undefined;
    }
  }

  private responseKey(requestId: string, keyHash: string): Buffer {
    return derive(this.secret, requestId, `warden-idempotency response v2\n${keyHash}`);
  }
}

const derive = (secret: Buffer, salt: string, info: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, salt, info, 32));

/**
 * The keyring from a service's `idempotency` config. Production refuses to start without a real
 * secret (`idempotency.secret`, from a Secret); elsewhere an empty one means a random secret of
 * this process, said once through `warn`. Messages name the setting, never a secret.
 */
export function idempotencyKeyring(
  config: { secret: string; previous_secrets: readonly string[] },
  options: { production: boolean; warn: (message: string) => void },
): IdempotencyKeyring {
  const secret = config.secret.trim();
  const previous = config.previous_secrets.map((s) => s.trim()).filter((s) => s !== '');
  if (options.production) {
    if (secret.length < MIN_IDEMPOTENCY_SECRET_LENGTH)
      throw new Error(
        `config: idempotency.secret (set WARDEN_IDEMPOTENCY_SECRET): NODE_ENV=production needs a secret of at least ${MIN_IDEMPOTENCY_SECRET_LENGTH} characters, ${secret === '' ? 'it is empty' : 'it is shorter'}`,
      );
    const short = previous.findIndex((s) => s.length < MIN_IDEMPOTENCY_SECRET_LENGTH);
    if (short >= 0)
      throw new Error(
        `config: idempotency.previous_secrets[${short}] (set WARDEN_IDEMPOTENCY_PREVIOUS_SECRETS): NODE_ENV=production needs at least ${MIN_IDEMPOTENCY_SECRET_LENGTH} characters`,
      );
  }
  if (secret === '') {
    options.warn(
      'idempotency.secret is empty: a random secret of this process keys idempotency records, so a request_id replays only on this process until it restarts; set WARDEN_IDEMPOTENCY_SECRET',
    );
    return previous.length > 0
      ? new IdempotencyKeyring(randomBytes(32).toString('base64'), previous)
      : IdempotencyKeyring.random();
  }
  return new IdempotencyKeyring(secret, previous);
}
