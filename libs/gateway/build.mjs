// Builds the publishable package: type declarations from tsc (tsconfig.build.json), and one ESM
// bundle from esbuild that carries the generated warden protos inside (@warden/proto is private),
// leaving the real dependencies (jose, @grpc/grpc-js, @bufbuild/protobuf) external.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;
const require = createRequire(import.meta.url);
rmSync(new URL('dist', import.meta.url), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: here,
    stdio: 'inherit',
  },
);
await build({
  absWorkingDir: here,
  entryPoints: ['src/index.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['jose', '@grpc/grpc-js', '@bufbuild/protobuf'],
  logLevel: 'warning',
});
