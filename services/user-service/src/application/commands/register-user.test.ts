import { describe, expect, it, vi } from 'vitest';
import {
  aCallContext,
  aRegisterUserCommand,
  CORRECT_PASSWORD,
} from '../../../test/support/mothers.js';
import { expectAppError } from '../../../test/support/expect-app-error.js';
import { fakeHashOf } from '../../../test/support/fakes.js';
import { aTestApp } from '../../../test/support/test-app.js';
import type { RegisterUser } from './register-user.js';

const register = (app: ReturnType<typeof aTestApp>, cmd: RegisterUser, ctx = aCallContext()) =>
  app.bus.run(app.useCases.registerUser, cmd, ctx);

describe('RegisterUser', () => {
  it('stores a normalized, active user with only the hash of the password, and announces it', async () => {
    const app = aTestApp();
    const ctx = aCallContext();
    const user = await register(
      app,
      aRegisterUserCommand({ email: '  Ada@Example.COM ', displayName: '  Ada  ' }),
      ctx,
    );

    expect(user).toMatchObject({ email: 'ada@example.com', displayName: 'Ada', status: 'ACTIVE' });
    expect(user).not.toHaveProperty('passwordHash');
    expect((await app.users.get(user.id))?.passwordHash).toBe(fakeHashOf(CORRECT_PASSWORD));
    expect(app.users.outbox).toEqual([
      {
        event: {
          type: 'registered',
          userId: user.id,
          occurTime: app.clock.now(),
        },
        traceparent: ctx.traceparent,
      },
    ]);
  });

  it('refuses an email taken in another case or with spaces: ALREADY_EXISTS EMAIL_TAKEN', async () => {
    const app = aTestApp();
    await register(app, aRegisterUserCommand({ email: 'ada@example.com' }));
    await expectAppError(
      register(app, aRegisterUserCommand({ email: ' ADA@example.com  ' })),
      'ALREADY_EXISTS',
      'EMAIL_TAKEN',
    );
    expect(app.users.eventsOfType('registered')).toHaveLength(1);
  });

  it('refuses a short password as WEAK_PASSWORD with a violation on password', async () => {
    const app = aTestApp();
    const error = await expectAppError(
      register(app, aRegisterUserCommand({ password: 'short' })),
      'INVALID_ARGUMENT',
      'WEAK_PASSWORD',
    );
    expect(error.violations).toEqual([
      { field: 'password', description: 'must be at least 8 characters' },
    ]);
  });

  it('reports every bad field at once', async () => {
    const app = aTestApp();
    const error = await expectAppError(
      register(app, {
        email: 'not-an-email',
        password: '',
        displayName: 'bad\nname',
        requestId: '',
      }),
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
    );
    expect(error.violations.map((v) => v.field)).toEqual(['email', 'password', 'display_name']);
    expect(app.users.outbox).toEqual([]);
  });

  it('refuses a breached password when the checker knows it, without hashing or storing', async () => {
    const app = aTestApp({ breached: ['password123'] });
    const error = await expectAppError(
      register(app, aRegisterUserCommand({ password: 'password123' })),
      'INVALID_ARGUMENT',
      'PASSWORD_BREACHED',
    );
    expect(error.violations[0]?.field).toBe('password');
    expect(await app.users.list({ emailPrefix: '' }, undefined, 10)).toEqual([]);
  });

  it('needs only a service identity', async () => {
    const app = aTestApp({
      authorizer: { check: async () => ({ allowed: false, reason: 'nobody may' }) },
    });
    await expect(register(app, aRegisterUserCommand())).resolves.toMatchObject({
      status: 'ACTIVE',
    });
  });

  describe('idempotency by request_id', () => {
    it('replays the first response for the same request, registering once', async () => {
      const app = aTestApp();
      const cmd = aRegisterUserCommand({ requestId: 'req-42' });
      const first = await register(app, cmd);
      const again = await register(app, { ...cmd, email: `  ${cmd.email.toUpperCase()}` });
      expect(again).toEqual(first);
      expect(app.users.eventsOfType('registered')).toHaveLength(1);
    });

    it('refuses the same key for a different request: ALREADY_EXISTS IDEMPOTENCY_KEY_REUSED', async () => {
      const app = aTestApp();
      const cmd = aRegisterUserCommand({ requestId: 'req-43' });
      await register(app, cmd);
      await expectAppError(
        register(app, { ...cmd, displayName: 'Someone Else' }),
        'ALREADY_EXISTS',
        'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('proves the password at argon2 cost on every replay, before answering', async () => {
      const app = aTestApp();
      const cmd = aRegisterUserCommand({ requestId: 'req-proof' });
      await register(app, cmd);
      expect(app.hasher.verifications).toBe(0);
      await register(app, cmd);
      expect(app.hasher.verifications).toBe(1);
      // A different display name is refused only after the same proof.
      await expectAppError(
        register(app, { ...cmd, displayName: 'Other' }),
        'ALREADY_EXISTS',
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(app.hasher.verifications).toBe(2);
    });

    it('answers a wrong password ALREADY_EXISTS after an argon2 check, and locks out like sign-ins', async () => {
      const app = aTestApp({ lockout: { maxFailures: 3, windowMs: 60_000 } });
      const cmd = aRegisterUserCommand({ requestId: 'req-guess' });
      const user = await register(app, cmd);
      for (let i = 0; i < 3; i++)
        await expectAppError(
          register(app, { ...cmd, password: `guess number ${i}` }),
          'ALREADY_EXISTS',
          'IDEMPOTENCY_KEY_REUSED',
        );
      expect(app.hasher.verifications).toBe(3);
      // Locked: the right password gets no stored response, and no argon2 runs.
      await expectAppError(register(app, cmd), 'RESOURCE_EXHAUSTED', 'ACCOUNT_LOCKED');
      expect(app.hasher.verifications).toBe(3);
      await expectAppError(
        app.bus.run(
          app.useCases.verifyCredentials,
          { email: user.email, password: cmd.password },
          aCallContext({ service: { name: 'session-service' } }),
        ),
        'RESOURCE_EXHAUSTED',
        'ACCOUNT_LOCKED',
      );
    });

    it('fingerprints the request without its password', () => {
      const { idempotency } = aTestApp().useCases.registerUser;
      const cmd = aRegisterUserCommand({ password: 'a very particular password' });
      expect(idempotency.fingerprint(cmd)).not.toContain('particular');
      expect(idempotency.fingerprint(cmd)).toBe(
        idempotency.fingerprint({ ...cmd, password: 'anything else' }),
      );
    });

    it('refuses an implausibly long password on replay without hashing it', async () => {
      const app = aTestApp();
      const cmd = aRegisterUserCommand({ requestId: 'req-long' });
      await register(app, cmd);
      await expectAppError(
        register(app, { ...cmd, password: 'p'.repeat(10_000) }),
        'ALREADY_EXISTS',
        'IDEMPOTENCY_KEY_REUSED',
      );
      expect(app.hasher.verifications).toBe(0);
    });

    it("keeps another email's use of the same request_id apart: it neither reads nor blocks", async () => {
      const app = aTestApp();
      const ada = aRegisterUserCommand({ requestId: 'shared-id' });
      const bob = aRegisterUserCommand({ requestId: 'shared-id', displayName: 'Bob' });
      const first = await register(app, ada);
      const second = await register(app, bob);
      expect(second.id).not.toBe(first.id);
      expect(second.email).toBe(bob.email);
      expect(await register(app, ada)).toEqual(first);
      expect(app.users.eventsOfType('registered')).toHaveLength(2);
    });

    it('lets a failed request be retried with the same key', async () => {
      const app = aTestApp();
      const cmd = aRegisterUserCommand({ requestId: 'req-44', password: 'short' });
      await expectAppError(register(app, cmd), 'INVALID_ARGUMENT');
      await expect(register(app, { ...cmd, password: CORRECT_PASSWORD })).resolves.toMatchObject({
        email: cmd.email,
      });
    });

    // Found by tests/faults: a replica killed after its registration committed, before its
    // response was stored, left a user its caller was never told about (the retry got EMAIL_TAKEN).
    describe('a claimant killed between its commit and its stored response', () => {
      /** The first call's process dies after its commit: none of its attempts to store the answer lands. */
      async function registerAndDie(app: ReturnType<typeof aTestApp>, cmd: RegisterUser) {
        const complete = app.idempotencyStore.complete.bind(app.idempotencyStore);
        let dead = true;
        app.idempotencyStore.complete = async (...args) => {
          if (dead) throw new Error('process killed');
          return complete(...args);
        };
        vi.useFakeTimers();
        try {
          const first = register(app, cmd).then(
            () => 'answered',
            (error: Error) => error.message,
          );
          await vi.advanceTimersByTimeAsync(10_000);
          expect(await first).toBe('process killed');
        } finally {
          vi.useRealTimers();
          dead = false;
        }
      }

      it('answers the retry with the committed user once the record is taken over', async () => {
        const app = aTestApp();
        const cmd = aRegisterUserCommand({ requestId: 'req-crash' });
        await registerAndDie(app, cmd);
        const [committed] = app.users.eventsOfType('registered');
        await expectAppError(register(app, cmd), 'ABORTED', 'REQUEST_IN_PROGRESS');
        app.clock.advance(10_000);
        const retried = await register(app, cmd);
        expect(retried.id).toBe(committed?.userId);
        expect(app.users.eventsOfType('registered')).toHaveLength(1);
        // The answer is stored now: a later replay reads it.
        expect(await register(app, cmd)).toEqual(retried);
      });

      it('answers EMAIL_TAKEN to a retry that cannot prove the password', async () => {
        const app = aTestApp();
        const cmd = aRegisterUserCommand({ requestId: 'req-crash-2' });
        await registerAndDie(app, cmd);
        app.clock.advance(10_000);
        await expectAppError(
          register(app, { ...cmd, password: 'not the password at all' }),
          'ALREADY_EXISTS',
          'EMAIL_TAKEN',
        );
        expect(app.hasher.verifications).toBe(1);
      });

      it('stores the answer through a short outage of the store, so nothing is taken over', async () => {
        const app = aTestApp();
        const complete = app.idempotencyStore.complete.bind(app.idempotencyStore);
        let failures = 3;
        app.idempotencyStore.complete = async (...args) => {
          if (failures-- > 0) throw new Error('connection terminated');
          return complete(...args);
        };
        const cmd = aRegisterUserCommand({ requestId: 'req-outage' });
        vi.useFakeTimers();
        try {
          const first = register(app, cmd);
          await vi.advanceTimersByTimeAsync(2_000);
          const user = await first;
          expect(await register(app, cmd)).toEqual(user);
        } finally {
          vi.useRealTimers();
        }
      });
    });

    it('refuses a request_id longer than 128 characters', async () => {
      const app = aTestApp();
      const error = await expectAppError(
        register(app, aRegisterUserCommand({ requestId: 'x'.repeat(129) })),
        'INVALID_ARGUMENT',
      );
      expect(error.violations[0]?.field).toBe('request_id');
    });
  });
});
