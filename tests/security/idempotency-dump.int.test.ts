import {
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import type { AppError } from '@warden/errors';
import type { sessionv1, userv1 } from '@warden/proto';
import { startServiceProcess, TEST_DATABASE_URL, type ServiceProcess } from '@warden/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/flows.js';
import { call, startStack, type Stack } from '../support/stack.js';

/**
 * Attack 4: someone holds a dump of the database and knows (or guesses) a request id, say from
 * gateway logs. The idempotency record of a StartSession must not decrypt into a working token,
 * and the record of a RegisterUser or StartSession must not let candidate passwords be tested
 * faster than argon2id: both are keyed by a server secret the database never sees.
 */
const CLIENT = { ipAddress: '198.51.100.23', userAgent: 'idempotency-dump' };

let stack: Stack;
let db: pg.Client;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  const secret = (service: string) => ({
    WARDEN_IDEMPOTENCY_SECRET: `${service}-${randomBytes(32).toString('base64')}`,
  });
  stack = await startStack({
    env: { user: secret('user'), session: secret('session'), authz: secret('authz') },
  });
  db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
}, 180_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  await db?.end();
  await stack?.stop();
});

type Row = { key_hash: string; fingerprint: string; response: Buffer; dump: string };

/** A row as a dump has it (found by the user it is about): its columns, and the row as text. */
async function dumpedRecord(schema: 'user' | 'session', ownerId: string): Promise<Row> {
  const { rows } = await db.query<Row>(
    `SELECT key_hash, fingerprint, response, row_to_json(k)::text AS dump
     FROM "${stack.prefix}_${schema}".idempotency_keys k WHERE owner_id = $1`,
    [ownerId],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]!.response).not.toBeNull();
  return rows[0]!;
}

/** What the old scheme let anyone with a request id do: everything derived from it alone. */
const requestIdOnly = {
  fingerprint: (requestId: string, input: string) =>
    createHmac('sha256', requestId).update(input).digest('hex'),
  /** Tries the old response key on the record as stored and past a leading version byte. */
  decrypts(requestId: string, keyHash: string, sealed: Buffer): boolean {
    const key = Buffer.from(
      hkdfSync('sha256', requestId, keyHash, 'warden-idempotency-response', 32),
    );
    return [sealed, sealed.subarray(1)].some((buffer) => {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, buffer.subarray(0, 12));
        decipher.setAuthTag(buffer.subarray(12, 28));
        decipher.update(buffer.subarray(28));
        decipher.final();
        return true;
      } catch {
        return false;
      }
    });
  },
};

const startSession = (requestId: string, password = PASSWORD, email = '') =>
  call<sessionv1.StartSessionRequest, sessionv1.StartSessionResponse>(
    stack.sessions,
    'startSession',
    { email, password, client: CLIENT, requestId },
  );

const registerUser = (requestId: string, email: string, password = PASSWORD) =>
  call<userv1.RegisterUserRequest, userv1.RegisterUserResponse>(stack.users, 'registerUser', {
    email,
    password,
    displayName: 'Dumped',
    requestId,
  });

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as AppError,
  );

/** Every form of `value` a careless store might hold. */
const formsOf = (value: string) => [
  value,
  createHash('sha256').update(value).digest('hex'),
  createHash('sha256').update(value).digest('base64'),
  createHash('sha256').update(value).digest('base64url'),
  Buffer.from(value).toString('hex'),
  Buffer.from(value).toString('base64'),
];

describe('attack 4: a database dump and a request id', () => {
  it('yields no token from a StartSession record, and no password test', async () => {
    const email = `dump-${randomUUID()}@example.com`;
    await registerUser(randomUUID(), email);
    const requestId = randomUUID();
    const first = await startSession(requestId, PASSWORD, email);

    const row = await dumpedRecord('session', first.session!.userId);
    // (a) The request id alone does not open the stored response.
    expect(requestIdOnly.decrypts(requestId, row.key_hash, row.response)).toBe(false);
    // (b) The right password does not reproduce the fingerprint: no offline password test.
    for (const input of [
      JSON.stringify([email, PASSWORD, CLIENT]),
      JSON.stringify([email, CLIENT]),
    ])
      expect(row.fingerprint).not.toContain(requestIdOnly.fingerprint(requestId, input));
    expect(row.fingerprint).toMatch(/^v2\.[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/);
    // (c) The token is nowhere in the row, in no form.
    const stored = `${row.dump}\n${row.response.toString('latin1')}\n${row.response.toString('hex')}`;
    for (const form of [...formsOf(first.token), ...formsOf(PASSWORD)])
      expect(stored).not.toContain(form);

    // The caller still gets replays; a wrong password under the id is a wrong password.
    const replay = await startSession(requestId, PASSWORD, email);
    expect(replay.token).toBe(first.token);
    expect(replay.session!.id).toBe(first.session!.id);
    const guess = await refusal(startSession(requestId, 'another password', email));
    expect([guess.kind, guess.reason]).toEqual(['UNAUTHENTICATED', 'INVALID_CREDENTIALS']);
  });

  it('yields no password test and no personal data from a RegisterUser record', async () => {
    const email = `dump-${randomUUID()}@example.com`;
    const requestId = randomUUID();
    const first = await registerUser(requestId, email);

    const row = await dumpedRecord('user', first.user!.id);
    expect(requestIdOnly.decrypts(requestId, row.key_hash, row.response)).toBe(false);
    for (const input of [
      JSON.stringify([email, PASSWORD, 'Dumped']),
      JSON.stringify([email, 'Dumped']),
    ])
      expect(row.fingerprint).not.toContain(requestIdOnly.fingerprint(requestId, input));
    expect(row.fingerprint).toMatch(/^v2\./);
    const stored = `${row.dump}\n${row.response.toString('latin1')}`;
    for (const form of [...formsOf(PASSWORD), email]) expect(stored).not.toContain(form);

    const replay = await registerUser(requestId, email);
    expect(replay.user).toEqual(first.user);
    const reused = await refusal(registerUser(requestId, email, 'a different password'));
    expect([reused.kind, reused.reason]).toEqual(['ALREADY_EXISTS', 'IDEMPOTENCY_KEY_REUSED']);
  });
});

describe('a production service without its idempotency secret', () => {
  const productionEnv = (service: string) => ({
    NODE_ENV: 'production',
    DATABASE_URL: TEST_DATABASE_URL,
    WARDEN_DATABASE_SCHEMA: `${stack.prefix}_${service.split('-')[0]}`,
    WARDEN_DATABASE_MIGRATE_ON_START: 'false',
    WARDEN_GRPC_HOST: '127.0.0.1',
    WARDEN_GRPC_PORT: '0',
    WARDEN_METRICS_HOST: '127.0.0.1',
    WARDEN_METRICS_PORT: '0',
    WARDEN_AUTH_SERVICE_KEYS: JSON.stringify({ gateway: randomBytes(24).toString('base64url') }),
    WARDEN_AUTH_CLIENT_KEY: randomBytes(24).toString('base64url'),
    WARDEN_GRPC_ALLOW_INSECURE: 'true',
    // user-service's other production secret, so that the idempotency secret is what it refuses.
    ...(service === 'user-service'
      ? { WARDEN_MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
      : {}),
  });

  async function exitOf(service: string, env: Record<string, string>) {
    const process = startServiceProcess(service, 'main.ts', { ...productionEnv(service), ...env });
    started.push(process);
    const code = await new Promise<number | null>((resolve) =>
      process.child.exitCode !== null
        ? resolve(process.child.exitCode)
        : process.child.once('exit', (exitCode) => resolve(exitCode)),
    );
    return { code, output: process.output() };
  }

  it('refuses to start, empty or short, naming the setting and never the value', async () => {
    const short = 'short-idempotency-secret';
    const runs = await Promise.all([
      exitOf('user-service', {}),
      exitOf('session-service', {}),
      exitOf('authz-service', {}),
      exitOf('user-service', { WARDEN_IDEMPOTENCY_SECRET: short }),
    ]);
    for (const [i, service] of ['user-service', 'session-service', 'authz-service'].entries()) {
      expect(runs[i]!.code).toBe(1);
      expect(runs[i]!.output).toContain(
        `${service}: cannot start: config: idempotency.secret (set WARDEN_IDEMPOTENCY_SECRET): NODE_ENV=production needs a secret of at least 32 characters, it is empty`,
      );
    }
    expect(runs[3]!.code).toBe(1);
    expect(runs[3]!.output).toMatch(/idempotency\.secret .* it is shorter/);
    expect(runs[3]!.output).not.toContain(short);
  });
});
