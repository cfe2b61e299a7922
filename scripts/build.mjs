// Production build of one service (or all): bundles src/{main,worker,migrate}.ts and the operator
// commands src/adapters/cli/*.ts (to dist/adapters/cli/) with the
// workspace libs inlined and npm packages left external, into services/<name>/dist/.
// Usage: node scripts/build.mjs [services/<name> ...]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets = process.argv.slice(2).length
  ? process.argv.slice(2).map((p) => resolve(p))
  : readdirSync(join(root, 'services')).map((name) => join(root, 'services', name));

/** Every npm dependency of the service and of the workspace libs stays external. */
function externals(serviceDir) {
  const names = new Set();
  const seen = new Set();
  const collect = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (name.startsWith('@warden/')) collect(join(root, 'libs', name.slice('@warden/'.length)));
      else names.add(name);
    }
  };
  collect(serviceDir);
  return [...names].flatMap((name) => [name, `${name}/*`]);
}

for (const dir of targets) {
  if (!existsSync(join(dir, 'src', 'main.ts'))) continue;
  const cliDir = join(dir, 'src', 'adapters', 'cli');
  const entryPoints = [
    ...['main', 'worker', 'migrate'].map((name) => join(dir, 'src', `${name}.ts`)),
    ...(existsSync(cliDir)
      ? readdirSync(cliDir)
          .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
          .map((file) => join(cliDir, file))
      : []),
  ].filter((file) => existsSync(file));
  await build({
    entryPoints,
    outdir: join(dir, 'dist'),
    outbase: join(dir, 'src'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    external: externals(dir),
    // Bundled ESM still needs require() for CommonJS packages it imports dynamically.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  // The reflection descriptor set is read at run time from <service>/descriptor.binpb.
  copyFileSync(join(root, 'libs', 'proto', 'descriptor.binpb'), join(dir, 'descriptor.binpb'));
  console.log(`built ${dir.slice(root.length + 1)}/dist (${entryPoints.length} entries)`);
}

// The same descriptor set for Envoy's grpc_json_transcoder (deploy/envoy), as a build artifact.
mkdirSync(join(root, 'dist'), { recursive: true });
copyFileSync(join(root, 'libs', 'proto', 'descriptor.binpb'), join(root, 'dist', 'warden.binpb'));
console.log('built dist/warden.binpb (descriptor set for deploy/envoy)');
