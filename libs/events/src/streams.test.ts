import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { nkeys } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import type { Logger } from './logger.js';
import { awaitStream, checkNatsCredentials, natsConnectOptions } from './streams.js';

const TLS_OFF = { enabled: false, ca_file: '', cert_file: '', key_file: '' };

/** A .creds file as `nsc` writes it: the user JWT, then the user's nkey seed. */
function credsFile(path: string, jwt: string, seed: Uint8Array): void {
  writeFileSync(
    path,
    [
      '-----BEGIN NATS USER JWT-----',
      jwt,
      '------END NATS USER JWT------',
      '',
      '-----BEGIN USER NKEY SEED-----',
      new TextDecoder().decode(seed),
      '------END USER NKEY SEED------',
      '',
    ].join('\n'),
  );
}

describe('natsConnectOptions', () => {
  it('connects anonymously only when no credentials are configured', () => {
    const options = natsConnectOptions(
      { url: 'nats://a:4222, nats://b:4222', user: '', password: '', tls: TLS_OFF },
      'svc',
    );
    expect(options.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(options).not.toHaveProperty('user');
    expect(options).not.toHaveProperty('authenticator');
    expect(options).not.toHaveProperty('tls');
    expect(options).not.toHaveProperty('inboxPrefix');
  });

  it('sends the user and password, and takes replies on that user’s own inbox prefix', () => {
    const options = natsConnectOptions(
      { url: 'nats://a:4222', user: 'session-service', password: 'pw', tls: TLS_OFF },
      'session-service',
    );
    expect(options).toMatchObject({
      user: 'session-service',
      pass: 'pw',
      inboxPrefix: '_INBOX.session-service',
      name: 'session-service',
      maxReconnectAttempts: -1,
    });
  });

  it('signs with a creds file, read again at each connect so a rotated file is used', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'warden-creds-')), 'user.creds');
    const first = nkeys.createUser();
    credsFile(file, 'eyJ0eXAiOiJKV1QifQ.first.sig', first.getSeed());
    const options = natsConnectOptions({ url: 'nats://a:4222', credentials_file: file }, 'svc');
    const nonce = 'a-server-nonce';
    const signed = options.authenticator as unknown as (nonce?: string) => Record<string, string>;
    const auth = signed(nonce);
    expect(auth.jwt).toBe('eyJ0eXAiOiJKV1QifQ.first.sig');
    expect(auth.nkey).toBe(first.getPublicKey());
    expect(first.verify(new TextEncoder().encode(nonce), decodeSig(auth.sig!))).toBe(true);

    const rotated = nkeys.createUser();
    credsFile(file, 'eyJ0eXAiOiJKV1QifQ.second.sig', rotated.getSeed());
    expect(signed(nonce)).toMatchObject({
      jwt: 'eyJ0eXAiOiJKV1QifQ.second.sig',
      nkey: rotated.getPublicKey(),
    });
  });

  it('requires TLS with the configured CA and client certificate when enabled', () => {
    const options = natsConnectOptions(
      {
        url: 'tls://a:4222',
        user: 'user-service',
        password: 'pw',
        tls: { enabled: true, ca_file: '/ca.pem', cert_file: '/c.pem', key_file: '/k.pem' },
      },
      'svc',
    );
    expect(options.tls).toEqual({ caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/k.pem' });
    const systemCas = natsConnectOptions(
      { url: 'tls://a:4222', tls: { ...TLS_OFF, enabled: true } },
      'svc',
    );
    expect(systemCas.tls).toEqual({});
  });
});

/** nats.js sends the nonce signature base64url-encoded. */
const decodeSig = (sig: string): Uint8Array => new Uint8Array(Buffer.from(sig, 'base64url'));

describe('checkNatsCredentials', () => {
  const anonymous = { url: 'nats://a:4222', user: '', password: '', credentials_file: '' };

  it('refuses an anonymous connection in production, naming what to set', () => {
    expect(() => checkNatsCredentials(anonymous, { NODE_ENV: 'production' })).toThrow(
      'nats: NODE_ENV=production refuses an anonymous connection; set nats.user and nats.password (WARDEN_NATS_USER, WARDEN_NATS_PASSWORD) or nats.credentials_file',
    );
  });

  it('lets production connect with a user or a creds file, and dev connect anonymously', () => {
    const production = { NODE_ENV: 'production' };
    expect(() =>
      checkNatsCredentials({ ...anonymous, user: 'user-service', password: 'pw' }, production),
    ).not.toThrow();
    expect(() =>
      checkNatsCredentials({ ...anonymous, credentials_file: '/u.creds' }, production),
    ).not.toThrow();
    expect(() => checkNatsCredentials(anonymous, { NODE_ENV: 'development' })).not.toThrow();
  });
});

describe('awaitStream', () => {
  const missing = () =>
    new JetStreamApiError({
      code: 404,
      err_code: JetStreamApiCodes.StreamNotFound,
      description: 'stream not found',
    });

  function fakes(answers: Array<() => unknown>) {
    const warnings: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_obj: object | string, msg?: string) => void warnings.push(msg ?? ''),
      error: () => undefined,
    };
    let asked = 0;
    const jsm = {
      streams: {
        info: async () => {
          const answer = answers[Math.min(asked++, answers.length - 1)]!;
          return answer();
        },
      },
    } as unknown as JetStreamManager;
    return { jsm, logger, warnings, asked: () => asked };
  }

  it('waits while the stream is missing, saying so once, and returns its info', async () => {
    const info = { config: { name: 'WARDEN_USER' } };
    const f = fakes([
      () => Promise.reject(missing()),
      () => Promise.reject(missing()),
      () => Promise.resolve(info),
    ]);
    await expect(awaitStream(f.jsm, 'WARDEN_USER', f.logger, { intervalMs: 1 })).resolves.toBe(
      info,
    );
    expect(f.asked()).toBe(3);
    expect(f.warnings).toEqual([
      'stream missing; waiting for ops to provision it (deploy/nats/provision-streams.sh)',
    ]);
  });

  it('waits while the stream has fewer replicas than nats.stream_replicas, saying so once', async () => {
    const one = { config: { name: 'WARDEN_USER', num_replicas: 1 } };
    const three = { config: { name: 'WARDEN_USER', num_replicas: 3 } };
    const f = fakes([
      () => Promise.reject(missing()),
      () => Promise.resolve(one),
      () => Promise.resolve(one),
      () => Promise.resolve(three),
    ]);
    await expect(
      awaitStream(f.jsm, 'WARDEN_USER', f.logger, { intervalMs: 1, replicas: 3 }),
    ).resolves.toBe(three);
    expect(f.asked()).toBe(4);
    expect(f.warnings).toEqual([
      'stream missing; waiting for ops to provision it (deploy/nats/provision-streams.sh)',
      'stream has fewer replicas than nats.stream_replicas; waiting for ops to provision it again (deploy/nats/provision-streams.sh, REPLICAS)',
    ]);
  });

  it('takes more replicas than asked for, and stops waiting when aborted, naming the shortfall', async () => {
    const three = { config: { name: 'WARDEN_USER', num_replicas: 3 } };
    const more = fakes([() => Promise.resolve(three)]);
    await expect(awaitStream(more.jsm, 'WARDEN_USER', more.logger, { replicas: 1 })).resolves.toBe(
      three,
    );
    const short = fakes([
      () => Promise.resolve({ config: { name: 'WARDEN_USER', num_replicas: 1 } }),
    ]);
    const aborted = AbortSignal.abort();
    await expect(
      awaitStream(short.jsm, 'WARDEN_USER', short.logger, { replicas: 3, signal: aborted }),
    ).rejects.toThrow('stream WARDEN_USER has 1 replica(s); nats.stream_replicas is 3');
  });

  it('fails at once on any other error, e.g. a permission the NATS user lacks', async () => {
    const denied = new Error('Permissions Violation for Publish to "$JS.API.STREAM.INFO.X"');
    const f = fakes([() => Promise.reject(denied)]);
    await expect(awaitStream(f.jsm, 'X', f.logger, { intervalMs: 1 })).rejects.toBe(denied);
    expect(f.asked()).toBe(1);
  });
});
