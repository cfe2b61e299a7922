import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/build.mjs leaves npm packages external and side-effect-free: a process loads a package
// only if code it runs uses it (idle RSS), and an import made only for its side effects, which
// esbuild would then drop silently, fails the build instead.
const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'warden-build-externals-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds a one-entry service whose src/main.ts is `main`; returns the bundle, or throws. */
function build(name: string, main: string, lib = ''): string {
  const service = join(dir, name);
  mkdirSync(join(service, 'src'), { recursive: true });
  writeFileSync(
    join(service, 'package.json'),
    JSON.stringify({ name, type: 'module', dependencies: { pino: '*', yaml: '*' } }),
  );
  writeFileSync(join(service, 'src', 'main.ts'), main);
  writeFileSync(join(service, 'src', 'lib.ts'), lib);
  execFileSync(
    process.execPath,
    [join(ROOT, 'scripts', 'build.mjs'), '--tree', join(dir, `${name}-tree`), service],
    { cwd: ROOT, stdio: 'pipe' },
  );
  return readFileSync(join(dir, `${name}-tree`, name, 'dist', 'main.js'), 'utf8');
}

describe('scripts/build.mjs and npm packages', () => {
  it('keeps the imports an entry uses and drops those only unused code of a module it bundles makes', () => {
    const bundle = build(
      'uses',
      `import { used } from './lib.js';\nconsole.log(used());\n`,
      `import { pino } from 'pino';\nimport { parse } from 'yaml';\n` +
        `export const used = () => pino();\nexport const unused = () => parse('a: 1');\n`,
    );
    expect(bundle).toMatch(/import \{ pino \} from "pino"/);
    expect(bundle).not.toContain('"yaml"');
  });

  it('refuses an import made only for its side effects, naming the file and the package', () => {
    let failure: unknown;
    try {
      build('bare', `import 'yaml';\nimport { pino } from 'pino';\nconsole.log(pino());\n`);
    } catch (error) {
      failure = error;
    }
    const stderr = String((failure as { stderr?: Buffer } | undefined)?.stderr ?? '');
    expect(failure).toBeDefined();
    expect(stderr).toContain(
      `${join(dir, 'bare', 'src', 'main.ts')}: import 'yaml' would be dropped`,
    );
  });
});
