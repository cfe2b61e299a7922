import { describe, expect, it } from 'vitest';
import { isGrant, isPermission, parseGrant } from './permission.js';
import { isSubjectId } from './subject.js';

describe('permissions and grants', () => {
  it.each(['session.end', 'user.change_password', 'game.join', 'a1.b_2'])(
    'accepts the permission %s',
    (p) => {
      expect(isPermission(p)).toBe(true);
    },
  );

  it.each([
    '',
    'session',
    'Session.end',
    'session.end:own',
    'session.*',
    '*',
    'session.end.now',
    '1x.read',
    'session .end',
  ])('refuses the permission %j', (p) => expect(isPermission(p)).toBe(false));

  it.each([
    '*',
    '*:own',
    'session.*',
    'session.*:own',
    'session.end',
    'session.end:own',
    'user.delete@aal2',
    'user.remove_mfa:own@aal2',
    '*@aal2',
  ])('accepts the grant %s', (g) => {
    expect(isGrant(g)).toBe(true);
  });

  it.each([
    '',
    '**',
    'session',
    'session.end:mine',
    '*.end',
    'session.end:own:own',
    'SESSION.end',
    'user.delete@aal1',
    'user.delete@aal2:own',
    'user.delete@aal2@aal2',
  ])('refuses the grant %j', (g) => {
    expect(isGrant(g)).toBe(false);
  });

  it('takes a grant apart', () => {
    expect(parseGrant('session.end:own')).toEqual({
      text: 'session.end:own',
      resource: 'session',
      action: 'end',
      own: true,
      aal2: false,
    });
    expect(parseGrant('user.remove_mfa:own@aal2')).toEqual({
      text: 'user.remove_mfa:own@aal2',
      resource: 'user',
      action: 'remove_mfa',
      own: true,
      aal2: true,
    });
    expect(parseGrant('user.*')).toEqual({
      text: 'user.*',
      resource: 'user',
      action: '*',
      own: false,
      aal2: false,
    });
    expect(parseGrant('*')).toEqual({
      text: '*',
      resource: '*',
      action: '*',
      own: false,
      aal2: false,
    });
  });

  it('knows a subject when it sees one', () => {
    expect(isSubjectId('0190f5a8-7c3e-7a4b-9c2d-1e2f3a4b5c6d')).toBe(true);
    expect(isSubjectId('service:session-service')).toBe(true);
    expect(isSubjectId('0190F5A8-7C3E-7A4B-9C2D-1E2F3A4B5C6D')).toBe(false);
    expect(isSubjectId('service:')).toBe(false);
    expect(isSubjectId('alice')).toBe(false);
    expect(isSubjectId('')).toBe(false);
  });
});
