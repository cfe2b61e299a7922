import { describe, expect, it } from 'vitest';
import { aSession, MINUTE, T0 } from '../../test/support/mothers.js';
import { end } from './session.js';
import { endAllExcept, makeRoomForOneMore } from './user-sessions.js';

const at = (ms: number) => new Date(T0.getTime() + ms);

describe('makeRoomForOneMore', () => {
  const userId = 'user-1';
  const sessions = [3, 1, 2].map((minute) => aSession({ userId, now: at(minute * MINUTE) }));
  const now = at(5 * MINUTE);

  it('ends nothing below the limit', () => {
    expect(makeRoomForOneMore(sessions, now, 4)).toEqual([]);
  });

  it('ends the oldest sessions so that one more fits', () => {
    const changes = makeRoomForOneMore(sessions, now, 2);
    expect(changes.map((c) => c.session.createTime)).toEqual([at(MINUTE), at(2 * MINUTE)]);
    expect(
      changes.every((c) => c.event === 'ended' && c.session.endReason === 'REPLACED_BY_LIMIT'),
    ).toBe(true);
  });

  it('does not count sessions that already stopped', () => {
    const stopped = [end(sessions[0]!, 'LOGOUT', now)!, ...sessions.slice(1)];
    expect(makeRoomForOneMore(stopped, now, 3)).toEqual([]);
    expect(makeRoomForOneMore(sessions, at(40 * MINUTE), 1)).toEqual([]);
  });
});

describe('endAllExcept', () => {
  it('ends every active session but the one kept', () => {
    const [keep, a, b] = [aSession(), aSession(), aSession()];
    const changes = endAllExcept([keep!, a!, b!], keep!.id, 'PASSWORD_CHANGED', at(MINUTE));
    expect(changes.map((c) => c.session.id)).toEqual([a!.id, b!.id]);
    expect(changes[0]!.session).toMatchObject({ status: 'ENDED', endReason: 'PASSWORD_CHANGED' });
  });

  it('ends all when nothing is kept', () => {
    expect(
      endAllExcept([aSession(), aSession()], undefined, 'USER_DISABLED', at(MINUTE)),
    ).toHaveLength(2);
  });
});
