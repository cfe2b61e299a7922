import { fileURLToPath } from 'node:url';
import { AppError } from '@warden/errors';
import { errorsRaisedOutsideCatalogue } from '@warden/testing';
import { describe, expect, it } from 'vitest';
import * as errors from './errors.js';

const SRC = fileURLToPath(new URL('.', import.meta.url));

describe('authz-service errors', () => {
  it('raises every reason with the one kind its catalogue gives it', () => {
    const factories = Object.entries(errors).filter(
      ([name, value]) => typeof value === 'function' && name !== 'fail',
    ) as Array<[string, (...args: unknown[]) => unknown]>;
    expect(factories.length).toBeGreaterThan(0);
    for (const [name, factory] of factories) {
      const error = factory('x', ['y']) as AppError;
      expect(error, name).toBeInstanceOf(AppError);
      if (name === 'tokenNotFound') continue;
      expect([name, error.kind], error.reason).toEqual([
        name,
        errors.REASONS[error.reason as keyof typeof errors.REASONS],
      ]);
    }
  });

  it('raises no error outside the catalogue', () => {
    expect(errorsRaisedOutsideCatalogue(SRC)).toEqual([]);
  });
});
