import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AppError } from '@warden/errors';
import { describe, expect, it, vi } from 'vitest';
import type { CallContext } from './context.js';
import {
  DEFAULT_PENDING_TIMEOUT_MS,
  Idempotency,
  recordAddress,
  type IdempotencyStore,
} from './idempotency.js';
import {
  IdempotencyKeyring,
  idempotencyKeyring,
  MIN_IDEMPOTENCY_SECRET_LENGTH,
} from './idempotency-keys.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';
import type { IdempotencySpec } from './use-case.js';

const SECRET = 'a-server-secret-of-44-characters-0123456789=';
const NEXT_SECRET = 'the-next-server-secret-of-44-characters-012=';
const ctx: CallContext = { service: { name: 'gateway' }, requestId: 'r1' };
const now = new Date('2026-05-01T10:00:00.000Z');

type SignIn = { email: string; password: string; requestId: string };
const SPEC: IdempotencySpec<SignIn, string> = {
  key: (input) => input.requestId,
  fingerprint: (input) => input.email,
  encode: (output) => new TextEncoder().encode(output),
  decode: (bytes) => new TextDecoder().decode(bytes),
};
const signIn = (overrides: Partial<SignIn> = {}): SignIn => ({
  email: 'ada@example.com',
  password: 'correct horse battery',
  requestId: 'req-1',
  ...overrides,
});

/** An Idempotency over `store` and a counter of how often the operation really ran. */
function anIdempotency(store: MemoryIdempotencyStore, keyring?: IdempotencyKeyring) {
  const idempotency = new Idempotency(store, { now: () => now, ...(keyring ? { keyring } : {}) });
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    run: (input: SignIn) =>
      idempotency.run('StartSession', SPEC, input, ctx, async () => `token-${++runs}`),
  };
}

const keyHashOf = (requestId: string) =>
  recordAddress('gateway', 'StartSession', 'service', requestId);

/** The scheme before the server secret: everything derived from the request id alone. */
const oldScheme = {
  fingerprint: (requestId: string, input: string) =>
    createHmac('sha256', requestId).update(input).digest('hex'),
  key: (requestId: string, keyHash: string) =>
    Buffer.from(hkdfSync('sha256', requestId, keyHash, 'warden-idempotency-response', 32)),
  seal(requestId: string, keyHash: string, plain: string): Uint8Array {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(requestId, keyHash), iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  },
  open(requestId: string, keyHash: string, sealed: Uint8Array): string {
    const buffer = Buffer.from(sealed);
    const decipher = createDecipheriv(
      'aes-256-gcm',
      this.key(requestId, keyHash),
      buffer.subarray(0, 12),
    );
    decipher.setAuthTag(buffer.subarray(12, 28));
    return Buffer.concat([decipher.update(buffer.subarray(28)), decipher.final()]).toString();
  },
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as AppError,
  );

describe('Idempotency records under a server secret', () => {
  it('replays the first response for the same request id and request', async () => {
    const store = new MemoryIdempotencyStore();
    const service = anIdempotency(store, new IdempotencyKeyring(SECRET));
    expect(await service.run(signIn())).toBe('token-1');
    expect(await service.run(signIn())).toBe('token-1');
    expect(service.runs).toBe(1);
  });

  it('refuses the same request id with a different request as ALREADY_EXISTS', async () => {
    const service = anIdempotency(new MemoryIdempotencyStore(), new IdempotencyKeyring(SECRET));
    await service.run(signIn());
    const error = await failure(service.run(signIn({ email: 'eve@example.com' })));
    expect(error).toMatchObject({ kind: 'ALREADY_EXISTS', reason: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('stores a record the request id alone neither opens nor lets test a password', async () => {
    const store = new MemoryIdempotencyStore();
    await anIdempotency(store, new IdempotencyKeyring(SECRET)).run(signIn());
    const [record] = [...store.records.values()];
    const keyHash = keyHashOf('req-1');
    expect(record!.keyHash).toBe(keyHash);
    expect(record!.fingerprint).toMatch(/^v2\.[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/);
    expect(record!.fingerprint).not.toContain(
      oldScheme.fingerprint('req-1', 'ada@example.com\ncorrect horse battery'),
    );
    expect(() => oldScheme.open('req-1', keyHash, record!.response!)).toThrow();
    expect(Buffer.from(record!.response!).toString('latin1')).not.toContain('token-1');
  });

  it('gives the same request under two request ids unrelated fingerprints', async () => {
    const store = new MemoryIdempotencyStore();
    const service = anIdempotency(store, new IdempotencyKeyring(SECRET));
    await service.run(signIn({ requestId: 'req-1' }));
    await service.run(signIn({ requestId: 'req-2' }));
    const [a, b] = [...store.records.values()].map((r) => r.fingerprint.split('.')[2]);
    expect(a).not.toBe(b);
  });

  it('reads records of a previous secret after a rotation, refusing a different request', async () => {
    const store = new MemoryIdempotencyStore();
    await anIdempotency(store, new IdempotencyKeyring(SECRET)).run(signIn());
    const rotated = anIdempotency(store, new IdempotencyKeyring(NEXT_SECRET, [SECRET]));
    expect(await rotated.run(signIn())).toBe('token-1');
    expect(rotated.runs).toBe(0);
    expect(await failure(rotated.run(signIn({ email: 'eve@example.com' })))).toMatchObject({
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('treats a record of a secret it does not hold as absent: runs again and overwrites it', async () => {
    const store = new MemoryIdempotencyStore();
    await anIdempotency(store, new IdempotencyKeyring(SECRET)).run(signIn());
    const other = anIdempotency(store, new IdempotencyKeyring(NEXT_SECRET));
    expect(await other.run(signIn({ email: 'eve@example.com' }))).toBe('token-1');
    expect(other.runs).toBe(1);
    expect(await other.run(signIn({ email: 'eve@example.com' }))).toBe('token-1');
    expect(other.runs).toBe(1);
  });

  it('treats a record written under the old request-id scheme as absent, never INTERNAL', async () => {
    const store = new MemoryIdempotencyStore();
    const keyHash = keyHashOf('req-1');
    const fingerprint = oldScheme.fingerprint('req-1', 'ada@example.com\ncorrect horse battery');
    await store.claim({ keyHash, fingerprint, now: new Date(now.getTime() - 60_000) }, 86_400_000);
    await store.complete(keyHash, oldScheme.seal('req-1', keyHash, 'old-token'));
    const service = anIdempotency(store, new IdempotencyKeyring(SECRET));
    expect(await service.run(signIn())).toBe('token-1');
    expect(store.records.get(keyHash)!.fingerprint).toMatch(/^v2\./);
    expect(await service.run(signIn())).toBe('token-1');
    expect(service.runs).toBe(1);
  });

  it('runs again when a stored response was tampered with, never INTERNAL', async () => {
    const store = new MemoryIdempotencyStore();
    const service = anIdempotency(store, new IdempotencyKeyring(SECRET));
    await service.run(signIn());
    const record = store.records.get(keyHashOf('req-1'))!;
    const tampered = Buffer.from(record.response!);
    tampered[tampered.length - 1]! ^= 1;
    record.response = tampered;
    expect(await service.run(signIn())).toBe('token-2');
  });

  it('does not replay a record copied to another request id', async () => {
    const store = new MemoryIdempotencyStore();
    const service = anIdempotency(store, new IdempotencyKeyring(SECRET));
    await service.run(signIn({ requestId: 'req-1' }));
    await service.run(signIn({ requestId: 'req-2' }));
    const first = store.records.get(keyHashOf('req-1'))!;
    const second = store.records.get(keyHashOf('req-2'))!;
    second.response = first.response;
    second.fingerprint = first.fingerprint;
    // The fingerprint binds the record's address: the moved one is a different request.
    expect(await failure(service.run(signIn({ requestId: 'req-2' })))).toMatchObject({
      reason: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  it('answers REQUEST_IN_PROGRESS for a fresh pending record it cannot read', async () => {
    const store = new MemoryIdempotencyStore();
    await store.claim({ keyHash: keyHashOf('req-1'), fingerprint: 'f'.repeat(64), now }, 60_000);
    const service = anIdempotency(store, new IdempotencyKeyring(SECRET));
    expect(await failure(service.run(signIn()))).toMatchObject({
      kind: 'ABORTED',
      reason: 'REQUEST_IN_PROGRESS',
    });
    expect(service.runs).toBe(0);
  });

  it('gives up with REQUEST_IN_PROGRESS when unreadable records keep reappearing', async () => {
    const released: string[] = [];
    const contended: IdempotencyStore = {
      // Another writer, under a secret this one does not hold, wins every claim.
      claim: async (record) => ({
        claimed: false,
        existing: {
          keyHash: record.keyHash,
          fingerprint: 'v2.ffffffffffff.other-writer',
          response: new Uint8Array([2, 1, 2, 3]),
          createTime: now,
        },
      }),
      complete: async () => undefined,
      release: async (keyHash) => {
        released.push(keyHash);
      },
    };
    const idempotency = new Idempotency(contended, { keyring: new IdempotencyKeyring(SECRET) });
    let runs = 0;
    const error = await failure(
      idempotency.run('StartSession', SPEC, signIn(), ctx, async () => `token-${++runs}`),
    );
    expect(error).toMatchObject({ kind: 'ABORTED', reason: 'REQUEST_IN_PROGRESS' });
    expect(runs).toBe(0);
    expect(released).toEqual([keyHashOf('req-1'), keyHashOf('req-1')]);
  });

  it('refuses to build a keyring on an empty secret', () => {
    expect(() => new IdempotencyKeyring('')).toThrow('an idempotency secret cannot be empty');
  });

  it('without a keyring uses a random secret of the instance: replays within it only', async () => {
    const store = new MemoryIdempotencyStore();
    const first = anIdempotency(store);
    expect(await first.run(signIn())).toBe('token-1');
    expect(await first.run(signIn())).toBe('token-1');
    const restarted = anIdempotency(store);
    expect(await restarted.run(signIn())).toBe('token-1');
    expect(restarted.runs).toBe(1);
  });
});

describe('Idempotency scoped to the calling service and principal', () => {
  const asUser = (userId: string, service = 'gateway'): CallContext => ({
    service: { name: service },
    user: { userId, sessionId: `s-${userId}` },
    requestId: 'r',
  });

  function counted(store = new MemoryIdempotencyStore()) {
    const idempotency = new Idempotency(store, { now: () => now });
    let runs = 0;
    return {
      store,
      run: (callCtx: CallContext, input = signIn(), options = {}) =>
        idempotency.run('Op', SPEC, input, callCtx, async () => `out-${++runs}`, options),
      get runs() {
        return runs;
      },
    };
  }

  it("gives each user their own record: B's reuse of A's request id neither reads nor blocks A", async () => {
    const service = counted();
    expect(await service.run(asUser('alice'))).toBe('out-1');
    // Bob, with Alice's request id and even a different request, runs his own.
    expect(await service.run(asUser('bob'), signIn({ email: 'bob@example.com' }))).toBe('out-2');
    expect(await service.run(asUser('alice'))).toBe('out-1');
    expect(await service.run(asUser('bob'), signIn({ email: 'bob@example.com' }))).toBe('out-2');
    expect(service.runs).toBe(2);
    expect([...service.store.records.keys()].sort()).toEqual(
      [
        recordAddress('gateway', 'Op', 'user:alice', 'req-1'),
        recordAddress('gateway', 'Op', 'user:bob', 'req-1'),
      ].sort(),
    );
  });

  it('keeps the same principal apart across calling services, and a user apart from the service', async () => {
    const service = counted();
    expect(await service.run(asUser('alice', 'gateway'))).toBe('out-1');
    expect(await service.run(asUser('alice', 'admin-console'))).toBe('out-2');
    expect(await service.run(ctx)).toBe('out-3');
    expect(await service.run({ ...ctx, service: { name: 'admin-console' } })).toBe('out-4');
    expect(await service.run(asUser('alice', 'gateway'))).toBe('out-1');
    expect(service.runs).toBe(4);
  });

  it("takes the spec's principal, and a handler's explicit one over it", async () => {
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency(store, { now: () => now });
    const byEmail: IdempotencySpec<SignIn, string> = {
      ...SPEC,
      principal: (input) => `email:${input.email}`,
    };
    await idempotency.run('Op', byEmail, signIn(), ctx, async () => 'a');
    await idempotency.run('Op', byEmail, signIn(), ctx, async () => 'b', { principal: 'user:u1' });
    expect([...store.records.keys()]).toEqual([
      recordAddress('gateway', 'Op', 'email:ada@example.com', 'req-1'),
      recordAddress('gateway', 'Op', 'user:u1', 'req-1'),
    ]);
  });

  it('addresses records unambiguously whatever the principal and request id hold', () => {
    expect(recordAddress('s', 'Op', 'a', 'b\nc')).not.toBe(recordAddress('s', 'Op', 'a\nb', 'c'));
    expect(recordAddress('s', 'Op', 'a","b', 'c')).not.toBe(recordAddress('s', 'Op', 'a', 'b","c'));
    expect(recordAddress('s', 'Op', 'p', 'k')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('Idempotency of a request carrying a credential (spec.prove)', () => {
  /** A spec whose requests carry a password, proven by `prove` (the fingerprint holds none). */
  function provenService(prove: (input: SignIn) => Promise<boolean>) {
    const proofs: SignIn[] = [];
    const spec: IdempotencySpec<SignIn, string> = {
      ...SPEC,
      prove: async (input) => {
        proofs.push(input);
        return prove(input);
      },
    };
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency(store, {
      now: () => now,
      keyring: new IdempotencyKeyring(SECRET),
    });
    let runs = 0;
    return {
      store,
      proofs,
      run: (input: SignIn) =>
        idempotency.run('Op', spec, input, ctx, async () => `token-${++runs}`),
      get runs() {
        return runs;
      },
    };
  }
  const rightPassword = async (input: SignIn) => input.password === 'correct horse battery';

  it('proves nothing on a fresh request, and proves the credential before replaying', async () => {
    const service = provenService(rightPassword);
    expect(await service.run(signIn())).toBe('token-1');
    expect(service.proofs).toHaveLength(0);
    expect(await service.run(signIn())).toBe('token-1');
    expect(service.proofs).toHaveLength(1);
    expect(service.runs).toBe(1);
  });

  it('answers a wrong credential IDEMPOTENCY_KEY_REUSED, never the stored response', async () => {
    const service = provenService(rightPassword);
    await service.run(signIn());
    const error = await failure(service.run(signIn({ password: 'a guess' })));
    expect(error).toMatchObject({ kind: 'ALREADY_EXISTS', reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(service.proofs.map((p) => p.password)).toEqual(['a guess']);
    expect(service.runs).toBe(1);
  });

  it('proves the credential before telling a different request apart', async () => {
    const service = provenService(rightPassword);
    await service.run(signIn());
    // Even a mismatch costs a proof: the refusal says nothing the credential check did not.
    const error = await failure(service.run(signIn({ email: 'eve@example.com' })));
    expect(error).toMatchObject({ reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(service.proofs).toHaveLength(1);
  });

  it("passes the proof's own refusal on (a lockout), leaving the record in place", async () => {
    const locked = new AppError('RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED', 'too many failures');
    let lockedOut = false;
    const service = provenService(async (input) => {
      if (lockedOut) throw locked;
      return rightPassword(input);
    });
    await service.run(signIn());
    lockedOut = true;
    expect(await failure(service.run(signIn()))).toBe(locked);
    lockedOut = false;
    expect(await service.run(signIn())).toBe('token-1');
    expect(service.store.records.size).toBe(1);
  });

  it('does not prove against a pending record: the request is in progress', async () => {
    const service = provenService(rightPassword);
    const keyHash = recordAddress('gateway', 'Op', 'service', 'req-1');
    const fingerprint = new IdempotencyKeyring(SECRET).current.fingerprint(
      keyHash,
      'ada@example.com',
    );
    await service.store.claim({ keyHash, fingerprint, now }, 60_000);
    expect(await failure(service.run(signIn()))).toMatchObject({ reason: 'REQUEST_IN_PROGRESS' });
    expect(service.proofs).toHaveLength(0);
    expect(service.runs).toBe(0);
  });
});

describe('idempotencyKeyring from config', () => {
  const config = (secret: string, previous: string[] = []) => ({
    secret,
    previous_secrets: previous,
  });
  const production = { production: true, warn: () => undefined };

  it('refuses an empty or short secret in production, naming the setting, not the value', () => {
    expect(() => idempotencyKeyring(config(''), production)).toThrow(
      /^config: idempotency\.secret \(set WARDEN_IDEMPOTENCY_SECRET\): NODE_ENV=production needs a secret of at least 32 characters, it is empty$/,
    );
    const short = 'x'.repeat(MIN_IDEMPOTENCY_SECRET_LENGTH - 1);
    const error = (() => {
      try {
        idempotencyKeyring(config(short), production);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(error.message).toMatch(/it is shorter$/);
    expect(error.message).not.toContain(short);
  });

  it('refuses a short previous secret in production', () => {
    expect(() => idempotencyKeyring(config(SECRET, [NEXT_SECRET, 'short']), production)).toThrow(
      /^config: idempotency\.previous_secrets\[1\] \(set WARDEN_IDEMPOTENCY_PREVIOUS_SECRETS\)/,
    );
  });

  it('keys records with the configured secret and reads the previous ones', async () => {
    const store = new MemoryIdempotencyStore();
    await anIdempotency(store, idempotencyKeyring(config(SECRET), production)).run(signIn());
    const rotated = idempotencyKeyring(config(NEXT_SECRET, [SECRET]), production);
    const service = anIdempotency(store, rotated);
    expect(await service.run(signIn())).toBe('token-1');
    expect(service.runs).toBe(0);
  });

  it('outside production, an empty secret is a random one, said once', async () => {
    const warnings: string[] = [];
    const keyring = idempotencyKeyring(config('  '), {
      production: false,
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([expect.stringMatching(/idempotency\.secret is empty: a random/)]);
    const store = new MemoryIdempotencyStore();
    expect(await anIdempotency(store, keyring).run(signIn())).toBe('token-1');
    const other = anIdempotency(
      store,
      idempotencyKeyring(config(''), { production: false, warn: () => undefined }),
    );
    expect(await other.run(signIn())).toBe('token-1');
    expect(other.runs).toBe(1);
  });

  it('outside production, a short secret is used as given', async () => {
    const warnings: string[] = [];
    const store = new MemoryIdempotencyStore();
    const dev = () =>
      idempotencyKeyring(config('dev-secret'), {
        production: false,
        warn: (m) => warnings.push(m),
      });
    await anIdempotency(store, dev()).run(signIn());
    const again = anIdempotency(store, dev());
    expect(await again.run(signIn())).toBe('token-1');
    expect(again.runs).toBe(0);
    expect(warnings).toEqual([]);
  });
});

// Found by tests/faults: a replica SIGKILLed mid-request left its pending record, and every retry
// with that request_id was refused (REQUEST_IN_PROGRESS) for 30 s. A running request now renews its
// record, so a dead one is taken over after a short timeout while a slow live one is never run twice.
describe('a pending record', () => {
  const keyring = new IdempotencyKeyring(SECRET);

  it('is renewed while its request runs: a retry past pendingTimeoutMs still waits, runs stay 1', async () => {
    vi.useFakeTimers();
    try {
      let clock = now.getTime();
      const store = new MemoryIdempotencyStore();
      const idempotency = new Idempotency(store, {
        now: () => new Date(clock),
        pendingTimeoutMs: 4_000,
        keyring,
      });
      let runs = 0;
      let finish!: (token: string) => void;
      const first = idempotency.run('StartSession', SPEC, signIn(), ctx, () => {
        runs++;
        return new Promise<string>((resolve) => (finish = resolve));
      });
      for (let second = 0; second < 6; second++) {
        clock += 1_000;
        await vi.advanceTimersByTimeAsync(1_000);
      }
      // 6 s after the claim, beyond the 4 s timeout: the claimant is alive, so it is not taken over.
      const retry = idempotency.run('StartSession', SPEC, signIn(), ctx, async () => {
        runs++;
        return 'token-twice';
      });
      expect(await failure(retry)).toMatchObject({
        kind: 'ABORTED',
        reason: 'REQUEST_IN_PROGRESS',
      });
      finish('token-1');
      expect(await first).toBe('token-1');
      expect(
        await idempotency.run('StartSession', SPEC, signIn(), ctx, async () => 'token-twice'),
      ).toBe('token-1');
      expect(runs).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('taken over asks recover for an effect the dead claimant committed; a fresh claim never does', async () => {
    const store = new MemoryIdempotencyStore();
    const recovered: string[] = [];
    const spec: IdempotencySpec<SignIn, string> = {
      ...SPEC,
      recover: async (input) => {
        recovered.push(input.requestId);
        return input.requestId === 'req-1' ? 'committed-before-the-crash' : undefined;
      },
    };
    await store.claim(
      { keyHash: keyHashOf('req-1'), fingerprint: 'f'.repeat(64), now },
      86_400_000,
    );
    await store.claim(
      { keyHash: keyHashOf('req-2'), fingerprint: 'f'.repeat(64), now },
      86_400_000,
    );
    const later = new Idempotency(store, {
      now: () => new Date(now.getTime() + DEFAULT_PENDING_TIMEOUT_MS),
      keyring,
    });
    let runs = 0;
    const run = (requestId: string) =>
      later.run('StartSession', spec, signIn({ requestId }), ctx, async () => `run-${++runs}`);
    expect(await run('req-1')).toBe('committed-before-the-crash');
    expect(await run('req-1')).toBe('committed-before-the-crash'); // stored, not recovered again
    expect(await run('req-2')).toBe('run-1'); // nothing committed: the operation runs
    expect(await run('req-3')).toBe('run-2'); // a fresh claim: nothing to recover
    expect(recovered).toEqual(['req-1', 'req-2']);
  });

  it('left by a dead claimant is taken over once DEFAULT_PENDING_TIMEOUT_MS has passed', async () => {
    const store = new MemoryIdempotencyStore();
    const keyHash = keyHashOf('req-1');
    await store.claim({ keyHash, fingerprint: 'f'.repeat(64), now }, 86_400_000);
    const at = (ms: number) => {
      let runs = 0;
      const idempotency = new Idempotency(store, {
        now: () => new Date(now.getTime() + ms),
        keyring,
      });
      return {
        run: () =>
          idempotency.run('StartSession', SPEC, signIn(), ctx, async () => `run-${++runs}`),
      };
    };
    expect(DEFAULT_PENDING_TIMEOUT_MS).toBe(10_000);
    expect(await failure(at(DEFAULT_PENDING_TIMEOUT_MS - 1).run())).toMatchObject({
      reason: 'REQUEST_IN_PROGRESS',
    });
    expect(await at(DEFAULT_PENDING_TIMEOUT_MS).run()).toBe('run-1');
  });
});

describe('An answer the operation stores in its own commit (answer.seal)', () => {
  const keyring = new IdempotencyKeyring(SECRET);
  const OWNED: IdempotencySpec<SignIn, string> = { ...SPEC, owner: () => 'user-1' };

  it('is stored once, by the operation, and replays like one stored after it', async () => {
    const store = new MemoryIdempotencyStore();
    const complete = vi.spyOn(store, 'complete');
    const idempotency = new Idempotency(store, { now: () => now, keyring });
    let runs = 0;
    const run = () =>
      idempotency.run('StartSession', OWNED, signIn(), ctx, async (answer) => {
        const output = `token-${++runs}`;
        const sealed = answer!.seal(output);
        // The operation's own write, as its transaction would make it, then its commit.
        await store.complete(sealed.keyHash, sealed.response, sealed.ownerId);
        sealed.committed();
        return output;
      });
    expect(await run()).toBe('token-1');
    expect(complete).toHaveBeenCalledTimes(1);
    expect(complete).toHaveBeenCalledWith(keyHashOf('req-1'), expect.any(Uint8Array), 'user-1');
    // Sealed like any stored answer: the request id alone does not open it.
    const stored = store.records.get(keyHashOf('req-1'))!.response!;
    expect(Buffer.from(stored).toString('utf8')).not.toContain('token-1');
    expect(await run()).toBe('token-1');
    expect(runs).toBe(1);
    expect(store.owners.get(keyHashOf('req-1'))).toBe('user-1');
  });

  it('is stored after the operation when its write did not commit it (committed() not called)', async () => {
    const store = new MemoryIdempotencyStore();
    const complete = vi.spyOn(store, 'complete');
    const idempotency = new Idempotency(store, { now: () => now, keyring });
    const run = () =>
      idempotency.run('StartSession', OWNED, signIn(), ctx, async (answer) => {
        answer!.seal('sealed-but-not-written');
        return 'sealed-but-not-written';
      });
    expect(await run()).toBe('sealed-but-not-written');
    expect(complete).toHaveBeenCalledTimes(1);
    expect(await run()).toBe('sealed-but-not-written');
  });

  it('stores the output returned when it differs from the one committed', async () => {
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency(store, { now: () => now, keyring });
    let runs = 0;
    const run = () =>
      idempotency.run('StartSession', OWNED, signIn(), ctx, async (answer) => {
        runs++;
        answer!.seal('committed').committed();
        return 'returned';
      });
    expect(await run()).toBe('returned');
    expect(await run()).toBe('returned');
    expect(runs).toBe(1);
  });

  it('leaves nothing when the operation fails after sealing: a retry runs again', async () => {
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency(store, { now: () => now, keyring });
    let runs = 0;
    const run = () =>
      idempotency.run('StartSession', OWNED, signIn(), ctx, async (answer) => {
        answer!.seal(`token-${++runs}`);
        if (runs === 1) throw new AppError('UNAVAILABLE', 'UNAVAILABLE', 'database down');
        return `token-${runs}`;
      });
    expect(await failure(run())).toMatchObject({ reason: 'UNAVAILABLE' });
    expect(store.records.size).toBe(0);
    expect(await run()).toBe('token-2');
  });

  it('gets no slot without a request id: there is no record', async () => {
    const store = new MemoryIdempotencyStore();
    const idempotency = new Idempotency(store, { now: () => now, keyring });
    const slots: unknown[] = [];
    await idempotency.run('StartSession', OWNED, signIn({ requestId: '' }), ctx, async (answer) => {
      slots.push(answer);
      return 'plain';
    });
    expect(slots).toEqual([undefined]);
    expect(store.records.size).toBe(0);
  });
});
