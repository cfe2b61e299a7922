import { describe, expect, it } from 'vitest';
import { aSession, MINUTE, T0 } from '../../test/support/mothers.js';
import { MemorySessionRepository } from '../adapters/memory/memory-session-repository.js';
import { ActivityBuffer } from './activity-buffer.js';
import { ActivityFlusher } from './activity-flusher.js';

const at = (ms: number) => new Date(T0.getTime() + ms);

function setup() {
  const sessions = new MemorySessionRepository();
  const buffer = new ActivityBuffer();
  const errors: unknown[] = [];
  const flusher = new ActivityFlusher(buffer, sessions, 60_000, (error) => errors.push(error));
  const session = aSession();
  sessions.sessions.set(session.id, session);
  return { sessions, buffer, flusher, errors, session };
}

describe('ActivityFlusher', () => {
  it('writes only the latest activity per session', async () => {
    const { sessions, buffer, flusher, session } = setup();
    buffer.record(session.id, at(MINUTE), at(31 * MINUTE));
    buffer.record(session.id, at(2 * MINUTE), at(32 * MINUTE));
    buffer.record(session.id, at(MINUTE), at(31 * MINUTE));
    expect(buffer.size).toBe(1);
    await flusher.flush();
    expect(sessions.sessions.get(session.id)).toMatchObject({
      lastSeenTime: at(2 * MINUTE),
      idleExpireTime: at(32 * MINUTE),
    });
    expect(buffer.size).toBe(0);
  });

  it('keeps a batch that failed for the next flush and reports it', async () => {
    const { sessions, buffer, flusher, errors, session } = setup();
    buffer.record(session.id, at(MINUTE), at(31 * MINUTE));
    sessions.failNextActivityWrite = true;
    await flusher.flush();
    expect(errors).toHaveLength(1);
    expect(buffer.size).toBe(1);
    await flusher.flush();
    expect(sessions.sessions.get(session.id)!.lastSeenTime).toEqual(at(MINUTE));
  });

  it('writes what is left when it stops', async () => {
    const { sessions, buffer, flusher, session } = setup();
    flusher.start();
    buffer.record(session.id, at(MINUTE), at(31 * MINUTE));
    await flusher.stop();
    expect(sessions.sessions.get(session.id)!.lastSeenTime).toEqual(at(MINUTE));
  });
});
