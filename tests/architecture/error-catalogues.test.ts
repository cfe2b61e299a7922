import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '@warden/errors';
import { describe, expect, it } from 'vitest';
import * as authzErrors from '../../services/authz-service/src/errors.js';
import * as sessionErrors from '../../services/session-service/src/errors.js';
import * as userErrors from '../../services/user-service/src/errors.js';

/** Each service's src/errors.ts: its reason catalogue and the factories raising from it. */
const SERVICES = {
  'user-service': userErrors,
  'session-service': sessionErrors,
  'authz-service': authzErrors,
} as const;

/** session.proto's v1 contract: a token naming no session is UNAUTHENTICATED SESSION_NOT_FOUND, an id NOT_FOUND. */
const CONTRACT_EXCEPTIONS = new Set(['tokenNotFound']);

/** Ways to raise an AppError with a reason of one's own choosing, bypassing the catalogue. */
const RAISED =
  /new AppError\(|\b(?:notFound|alreadyExists|failedPrecondition|unauthenticated|permissionDenied)\(/;

/** Lines of `srcDir` raising an error outside errors.ts (tests, generated code and fakes aside). */
function raisedOutsideCatalogue(srcDir: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') visit(path);
      } else if (
        entry.name.endsWith('.ts') &&
        !entry.name.endsWith('.test.ts') &&
        !entry.name.startsWith('fake-') &&
        path !== join(srcDir, 'errors.ts')
      ) {
        readFileSync(path, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (RAISED.test(line)) found.push(`${relative(srcDir, path)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
  };
  visit(srcDir);
  return found;
}

describe.each(Object.entries(SERVICES))('%s errors', (service, errors) => {
  it('raises every reason with the one kind its catalogue gives it', () => {
    const reasons: Readonly<Record<string, string>> = errors.REASONS;
    const factories = Object.entries(errors).filter(
      ([name, value]) => typeof value === 'function' && name !== 'fail',
    ) as Array<[string, (...args: unknown[]) => unknown]>;
    expect(factories.length).toBeGreaterThan(0);
    for (const [name, factory] of factories) {
      const error = factory('x', ['y']) as AppError;
      expect(error, name).toBeInstanceOf(AppError);
      if (CONTRACT_EXCEPTIONS.has(name)) continue;
      expect([name, error.kind], error.reason).toEqual([name, reasons[error.reason]]);
    }
  });

  it('raises no error outside the catalogue', () => {
    const src = fileURLToPath(new URL(`../../services/${service}/src`, import.meta.url));
    expect(raisedOutsideCatalogue(src)).toEqual([]);
  });
});
