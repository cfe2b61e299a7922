import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

describe('@warden/gateway as published', () => {
  it('builds to dist: an ESM bundle with declarations that need no private workspace package', async () => {
    execFileSync(process.execPath, ['build.mjs'], { cwd: ROOT, stdio: 'pipe' });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.private).toBeUndefined();
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    const dist = readdirSync(join(ROOT, 'dist'));
    expect(dist).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'gateway.d.ts']));
    for (const file of dist.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts')))
      expect(readFileSync(join(ROOT, 'dist', file), 'utf8'), file).not.toMatch(/@warden\//);
    const built = await import(join(ROOT, 'dist', 'index.js'));
    expect(Object.keys(built).sort()).toEqual([
      'FileCheckpointStore',
      'GatewayError',
      'MemoryCheckpointStore',
      'RevocationState',
      'createGateway',
      'grpcSessionApi',
    ]);
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      '@bufbuild/protobuf',
      '@grpc/grpc-js',
      'jose',
    ]);
    // tsc and esbuild on a busy two-core machine.
  }, 180_000);
});
