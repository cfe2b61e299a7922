import { describe, expect, it } from 'vitest';
import { AppError } from '@warden/errors';
import { Bus } from './bus.js';
import type { CallContext, PermissionChecker } from './context.js';
import { Idempotency } from './idempotency.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';
import { TablePermissionChecker } from './testing-checkers.js';
import type { UseCase } from './use-case.js';

const USER = '0190a000-0000-7000-8000-000000000001';
const OTHER = '0190a000-0000-7000-8000-000000000002';

const aContext = (overrides: Partial<CallContext> = {}): CallContext => ({
  service: { name: 'gateway' },
  user: { userId: USER, sessionId: 's1' },
  requestId: 'r1',
  ...overrides,
});

function readUser(): UseCase<{ userId: string }, string> & { calls: number } {
  return {
    name: 'GetUser',
    calls: 0,
    access: {
      kind: 'permission',
      permission: 'user.read',
      resource: (input) => ({ type: 'user', id: input.userId, ownerId: input.userId }),
    },
    async execute(input) {
      this.calls++;
      return `user ${input.userId}`;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('Bus authorization', () => {
  it('runs the handler when the subject holds the permission through :own', async () => {
    const bus = new Bus({ authorizer: new TablePermissionChecker({ [USER]: ['user.read:own'] }) });
    await expect(bus.run(readUser(), { userId: USER }, aContext())).resolves.toBe(`user ${USER}`);
  });

  it('denies acting on another owner with PERMISSION_DENIED and never runs the handler', async () => {
    const useCase = readUser();
    const bus = new Bus({ authorizer: new TablePermissionChecker({ [USER]: ['user.read:own'] }) });
    const error = await rejection(bus.run(useCase, { userId: OTHER }, aContext()));
    expect(error.kind).toBe('PERMISSION_DENIED');
    expect(error.metadata.permission).toBe('user.read');
    expect(useCase.calls).toBe(0);
  });

  it("asks every check of a call for the call's min revision (x-warden-min-revision)", async () => {
    const asked: Array<number | undefined> = [];
    const authorizer: PermissionChecker = {
      check: async (_subject, _permission, _resource, _assurance, minRevision) => {
        asked.push(minRevision);
        return { allowed: true, reason: 'granted' };
      },
    };
    const bus = new Bus({ authorizer });
    await bus.run(readUser(), { userId: OTHER }, aContext({ minRevision: 42 }));
    await bus.run(readUser(), { userId: OTHER }, aContext());
    const watchOthers: UseCase<{ userId: string }, string> = {
      name: 'WatchSessions',
      access: {
        kind: 'service',
        onBehalf: { permission: 'session.list', owners: (i) => [i.userId] },
      },
      execute: async () => 'watching',
    };
    await bus.run(watchOthers, { userId: OTHER }, aContext({ minRevision: 43 }));
    expect(asked).toEqual([42, undefined, 43]);
  });

  it("refuses another owner's resource and a missing one alike, keeping authz's reason for the log", async () => {
    // Like authz-service: the reason says whether the resource named an owner.
    const authorizer: PermissionChecker = {
      check: async (_subject, _permission, resource) => ({
        allowed: false,
        reason: resource.ownerId ? 'owned by someone else' : 'names no owner',
      }),
    };
    const bus = new Bus({ authorizer });
    const resource = (input: { ownerId?: string }) => ({
      type: 'session',
      id: 's9',
      ...(input.ownerId ? { ownerId: input.ownerId } : {}),
    });
    const getSession: UseCase<{ ownerId?: string }, string> = {
      name: 'GetSession',
      access: { kind: 'permission', permission: 'session.read', resource },
      execute: async () => 'never',
    };
    const theirs = await rejection(bus.run(getSession, { ownerId: OTHER }, aContext()));
    const missing = await rejection(bus.run(getSession, {}, aContext()));
    const visible = (e: AppError) => [e.kind, e.reason, e.message, e.metadata, e.violations];
    expect(visible(theirs)).toEqual(visible(missing));
    expect(theirs.message).toBe('missing permission session.read');
    expect([theirs.cause, missing.cause]).toEqual(['owned by someone else', 'names no owner']);
  });

  it('asks for a user token when a bare service lacks the permission', async () => {
    const bus = new Bus({ authorizer: new TablePermissionChecker() });
    const error = await rejection(
      bus.run(readUser(), { userId: USER }, aContext({ user: undefined })),
    );
    expect(error.kind).toBe('UNAUTHENTICATED');
    expect(error.reason).toBe('USER_TOKEN_REQUIRED');
  });

  it('checks a bare service as the subject service:<name>', async () => {
    const checker = new TablePermissionChecker({ 'service:ops': ['user.read'] });
    const bus = new Bus({ authorizer: checker });
    await bus.run(
      readUser(),
      { userId: USER },
      aContext({ user: undefined, service: { name: 'ops' } }),
    );
    expect(checker.asked[0]?.subjectId).toBe('service:ops');
  });

  it('reserves named-service use cases for those services', async () => {
    const internal: UseCase<void, string> = {
      name: 'VerifyCredentials',
      access: { kind: 'services', names: ['session-service'] },
      execute: async () => 'ok',
    };
    const bus = new Bus({ authorizer: new TablePermissionChecker() });
    await expect(
      bus.run(internal, undefined, aContext({ service: { name: 'session-service' } })),
    ).resolves.toBe('ok');
    const error = await rejection(bus.run(internal, undefined, aContext()));
    expect(error.kind).toBe('PERMISSION_DENIED');
    expect(error.reason).toBe('PERMISSION_DENIED');
    // Who may call it stays in the log: the refused caller learns no service names.
    expect(error.message).toBe('VerifyCredentials is reserved for other services');
    expect(error.metadata).toEqual({});
    expect(error.cause).toBe('allowed: session-service; caller: gateway');
  });

  it('answers every refusal and failure as a rejected promise, never a synchronous throw', async () => {
    const bus = new Bus({ authorizer: new TablePermissionChecker() });
    const reserved: UseCase<void, string> = {
      name: 'VerifyCredentials',
      access: { kind: 'services', names: ['session-service'] },
      readOnly: true,
      execute: async () => 'ok',
    };
    const throwing: UseCase<void, string> = {
      name: 'Throwing',
      access: { kind: 'service' },
      execute: () => {
        throw new AppError('INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'thrown before any promise');
      },
    };
    for (const useCase of [reserved, throwing]) {
      let returned: Promise<string> | undefined;
      expect(() => (returned = bus.run(useCase, undefined, aContext()))).not.toThrow();
      await expect(returned).rejects.toBeInstanceOf(AppError);
    }
  });

  describe('a user principal carried through a service-level use case', () => {
    function watch(
      kind: 'service' | 'services',
    ): UseCase<{ userIds: Array<string | undefined> }, string> & { calls: number } {
      const onBehalf = {
        permission: 'session.list',
        owners: (i: { userIds: Array<string | undefined> }) => i.userIds,
      };
      return {
        name: 'WatchSessions',
        calls: 0,
        access: kind === 'service' ? { kind, onBehalf } : { kind, names: ['gateway'], onBehalf },
        async execute() {
          this.calls++;
          return 'watching';
        },
      };
    }

    it.each(['service', 'services'] as const)(
      '(%s) lets the user reach its own data without asking authz',
      async (kind) => {
        const checker = new TablePermissionChecker();
        const bus = new Bus({ authorizer: checker });
        await expect(bus.run(watch(kind), { userIds: [USER, USER] }, aContext())).resolves.toBe(
          'watching',
        );
        expect(checker.asked).toEqual([]);
      },
    );

    it.each(['service', 'services'] as const)(
      "(%s) refuses another user's data or everyone's to a user with only an :own grant",
      async (kind) => {
        const checker = new TablePermissionChecker({ [USER]: ['session.list:own'] });
        const bus = new Bus({ authorizer: checker });
        for (const userIds of [[OTHER], [undefined], [USER, OTHER]]) {
          const useCase = watch(kind);
          const error = await rejection(bus.run(useCase, { userIds }, aContext()));
          expect(error).toMatchObject({
            kind: 'PERMISSION_DENIED',
            reason: 'PERMISSION_DENIED',
            message: 'missing permission session.list',
            metadata: { permission: 'session.list' },
          });
          expect(String(error.cause)).toMatch(/^WatchSessions for another user: /);
          expect(useCase.calls).toBe(0);
        }
        // Asked for the user, with no owner, so the :own grant cannot answer for someone else.
        expect(checker.asked.at(-1)).toEqual({
          subjectId: USER,
          permission: 'session.list',
          resource: { type: 'session' },
        });
      },
    );

    it("lets a user holding the permission unscoped reach another user's data", async () => {
      const bus = new Bus({
        authorizer: new TablePermissionChecker({ [USER]: ['session.list'] }),
      });
      await expect(
        bus.run(watch('services'), { userIds: [OTHER, undefined] }, aContext()),
      ).resolves.toBe('watching');
    });

    it('leaves a service without a user to its service rule alone', async () => {
      const checker = new TablePermissionChecker();
      const bus = new Bus({ authorizer: checker });
      const { user: _none, ...bare } = aContext();
      await expect(bus.run(watch('services'), { userIds: [undefined] }, bare)).resolves.toBe(
        'watching',
      );
      expect(checker.asked).toEqual([]);
    });

    it('checks the service rule first: a refused service learns nothing about the user', async () => {
      const checker = new TablePermissionChecker({ [USER]: ['session.list'] });
      const bus = new Bus({ authorizer: checker });
      const error = await rejection(
        bus.run(
          watch('services'),
          { userIds: [OTHER] },
          aContext({ service: { name: 'billing' } }),
        ),
      );
      expect(error.message).toBe('WatchSessions is reserved for other services');
      expect(checker.asked).toEqual([]);
    });
  });
});

describe('Bus step-up (assurance level)', () => {
  const removeMfa: UseCase<{ userId: string }, string> = {
    name: 'RemoveTotp',
    access: {
      kind: 'permission',
      permission: 'user.remove_mfa',
      resource: (input) => ({ type: 'user', id: input.userId, ownerId: input.userId }),
    },
    execute: async () => 'removed',
  };
  const checker = () => new TablePermissionChecker({ [USER]: ['user.remove_mfa:own@aal2'] });

  it("passes the session's assurance level to the authorizer and allows an @aal2 grant at AAL2", async () => {
    const authorizer = checker();
    const ctx = aContext({ user: { userId: USER, sessionId: 's1', assuranceLevel: 'AAL2' } });
    await expect(new Bus({ authorizer }).run(removeMfa, { userId: USER }, ctx)).resolves.toBe(
      'removed',
    );
    expect(authorizer.asked[0]?.assurance).toBe('AAL2');
  });

  it('refuses an AAL1 session with PERMISSION_DENIED / STEP_UP_REQUIRED naming the permission', async () => {
    const ctx = aContext({ user: { userId: USER, sessionId: 's1', assuranceLevel: 'AAL1' } });
    const error = await rejection(
      new Bus({ authorizer: checker() }).run(removeMfa, { userId: USER }, ctx),
    );
    expect(error.kind).toBe('PERMISSION_DENIED');
    expect(error.reason).toBe('STEP_UP_REQUIRED');
    expect(error.metadata).toEqual({
      permission: 'user.remove_mfa',
      required_assurance_level: 'AAL2',
    });
  });

  it('treats a principal without a level as AAL1', async () => {
    const error = await rejection(
      new Bus({ authorizer: checker() }).run(removeMfa, { userId: USER }, aContext()),
    );
    expect(error.reason).toBe('STEP_UP_REQUIRED');
  });

  it('answers a plain PERMISSION_DENIED when even AAL2 would not help', async () => {
    const ctx = aContext({ user: { userId: USER, sessionId: 's1', assuranceLevel: 'AAL2' } });
    const error = await rejection(
      new Bus({ authorizer: checker() }).run(removeMfa, { userId: OTHER }, ctx),
    );
    expect(error.reason).toBe('PERMISSION_DENIED');
  });
});

describe('Bus idempotency', () => {
  type Register = { email: string; password: string; requestId?: string };
  const register = (): UseCase<Register, { id: number; token: string }> & { calls: number } => ({
    name: 'RegisterUser',
    calls: 0,
    access: { kind: 'service' },
    idempotency: {
      key: (input) => input.requestId,
      // Never the password: a fingerprint mismatch is answered at no cost.
      fingerprint: (input) => input.email,
      encode: (output) => new TextEncoder().encode(JSON.stringify(output)),
      decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
    },
    async execute() {
      this.calls++;
      return { id: this.calls, token: `secret-token-${this.calls}` };
    },
  });

  it('returns the first response for the same key and request, without running again', async () => {
    const store = new MemoryIdempotencyStore();
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(store),
    });
    const useCase = register();
    const input = { email: 'a@x.io', password: 'pw-123456', requestId: 'k1' };
    const first = await bus.run(useCase, input, aContext());
    const second = await bus.run(useCase, input, aContext());
    expect(second).toEqual(first);
    expect(useCase.calls).toBe(1);
  });

  it('refuses the same key with a different request as ALREADY_EXISTS', async () => {
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(new MemoryIdempotencyStore()),
    });
    const useCase = register();
    await bus.run(useCase, { email: 'a@x.io', password: 'pw-123456', requestId: 'k1' }, aContext());
    const error = await rejection(
      bus.run(useCase, { email: 'b@x.io', password: 'pw-123456', requestId: 'k1' }, aContext()),
    );
    expect(error.kind).toBe('ALREADY_EXISTS');
    expect(error.reason).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('stores neither the raw key nor a readable response', async () => {
    const store = new MemoryIdempotencyStore();
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(store),
    });
    await bus.run(
      register(),
      { email: 'a@x.io', password: 'pw-123456', requestId: 'k1' },
      aContext(),
    );
    const [record] = [...store.records.values()];
    expect(record!.keyHash).not.toContain('k1');
    expect(Buffer.from(record!.response!).toString('latin1')).not.toContain('secret-token');
  });

  it('lets a failed request be retried with the same key', async () => {
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(new MemoryIdempotencyStore()),
    });
    let fail = true;
    const flaky: UseCase<Register, string> = {
      ...register(),
      idempotency: {
        key: register().idempotency!.key,
        fingerprint: register().idempotency!.fingerprint,
        encode: (o) => new TextEncoder().encode(o),
        decode: (b) => new TextDecoder().decode(b),
      },
      async execute() {
        if (fail) {
          fail = false;
          throw new AppError('UNAVAILABLE', 'UNAVAILABLE', 'db down');
        }
        return 'done';
      },
    };
    const input = { email: 'a@x.io', password: 'pw-123456', requestId: 'k2' };
    await rejection(bus.run(flaky, input, aContext()));
    await expect(bus.run(flaky, input, aContext())).resolves.toBe('done');
  });

  it('answers ABORTED while the first request with the key is still running', async () => {
    const store = new MemoryIdempotencyStore();
    await store.claim({ keyHash: 'x', fingerprint: 'f', now: new Date() }, 1000);
    const idempotency = new Idempotency(store);
    const useCase = register();
    // Claim the exact row the run would use, by running once with a handler that never settles.
    let release!: () => void;
    const slow: typeof useCase = {
      ...useCase,
      execute: () => new Promise((resolve) => (release = () => resolve({ id: 0, token: 't' }))),
    };
    const bus = new Bus({ authorizer: new TablePermissionChecker(), idempotency });
    const input = { email: 'a@x.io', password: 'pw-123456', requestId: 'k3' };
    const first = bus.run(slow, input, aContext());
    await new Promise((resolve) => setImmediate(resolve));
    const error = await rejection(bus.run(slow, input, aContext()));
    expect(error.kind).toBe('ABORTED');
    release();
    await first;
  });

  it("keeps each user's request ids apart: one user's key neither replays nor blocks another's", async () => {
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(new MemoryIdempotencyStore()),
    });
    const useCase = register();
    const other = aContext({ user: { userId: OTHER, sessionId: 's2' } });
    const mine = await bus.run(
      useCase,
      { email: 'a@x.io', password: 'pw', requestId: 'k1' },
      aContext(),
    );
    const theirs = await bus.run(
      useCase,
      { email: 'b@x.io', password: 'pw', requestId: 'k1' },
      other,
    );
    expect(theirs).not.toEqual(mine);
    expect(
      await bus.run(useCase, { email: 'a@x.io', password: 'pw', requestId: 'k1' }, aContext()),
    ).toEqual(mine);
    expect(useCase.calls).toBe(2);
  });

  it('runs without a key as a plain call every time', async () => {
    const bus = new Bus({
      authorizer: new TablePermissionChecker(),
      idempotency: new Idempotency(new MemoryIdempotencyStore()),
    });
    const useCase = register();
    await bus.run(useCase, { email: 'a@x.io', password: 'pw-123456' }, aContext());
    await bus.run(useCase, { email: 'a@x.io', password: 'pw-123456' }, aContext());
    expect(useCase.calls).toBe(2);
  });
});
