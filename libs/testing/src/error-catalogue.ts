import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Ways to raise an AppError with a reason of one's own choosing, bypassing a service's catalogue. */
const RAISED =
  /new AppError\(|\b(?:notFound|alreadyExists|failedPrecondition|unauthenticated|permissionDenied)\(/;

/**
 * Lines of a service's `src` that raise an error outside its `errors.ts` (tests, generated code and
 * fakes of other services aside): each is a reason the catalogue does not know about.
 */
export function errorsRaisedOutsideCatalogue(srcDir: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') visit(path);
        continue;
      }
      const name = entry.name;
      if (!name.endsWith('.ts') || name.endsWith('.test.ts') || name.startsWith('fake-')) continue;
      if (path === join(srcDir, 'errors.ts')) continue;
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (RAISED.test(line)) found.push(`${relative(srcDir, path)}:${i + 1}: ${line.trim()}`);
        });
    }
  };
  visit(srcDir);
  return found;
}
