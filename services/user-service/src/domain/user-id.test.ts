import { describe, expect, it } from 'vitest';
import { AppError } from '@warden/errors';
import { parseUserId } from './user-id.js';

describe('user id', () => {
  it('accepts a UUID in any case and returns it lower-case', () => {
    expect(parseUserId('0190C7A6-1E1B-7C3D-9F00-0123456789AB')).toBe(
      '0190c7a6-1e1b-7c3d-9f00-0123456789ab',
    );
  });

  it.each(['', 'not-a-uuid', '0190c7a6-1e1b-7c3d-9f00-0123456789ab0', "1' OR '1'='1"])(
    'refuses %j as INVALID_ARGUMENT on user_id',
    (raw) => {
      try {
        parseUserId(raw);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).kind).toBe('INVALID_ARGUMENT');
        expect((error as AppError).violations[0]?.field).toBe('user_id');
      }
    },
  );
});
