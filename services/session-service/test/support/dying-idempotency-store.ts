import type { IdempotencyStore } from '@warden/bus';

/**
 * `store` as seen by a process SIGKILLed between a request's commit and its stored answer: the
 * first `complete` never returns, and from then on the dead process renews nothing, so its pending
 * record is taken over once pendingTimeoutMs passes. Later calls (a retry on a live replica) go
 * through. `killed` settles when the first request has committed.
 */
export function dyingAfterCommit(store: IdempotencyStore): {
  store: IdempotencyStore;
  killed: Promise<void>;
} {
  let dead = false;
  let died = () => undefined as void;
  const killed = new Promise<void>((resolve) => (died = resolve));
  return {
    killed,
    store: {
      claim: (record, ttlMs) => store.claim(record, ttlMs),
      release: (keyHash) => store.release(keyHash),
      complete(keyHash, response, ownerId) {
        if (dead) return store.complete(keyHash, response, ownerId);
        dead = true;
        died();
        return new Promise<void>(() => undefined);
      },
      async renew(keyHash, now) {
        if (!dead) await store.renew?.(keyHash, now);
      },
    },
  };
}
