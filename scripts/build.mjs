// Production build of one service (or all): bundles src/{main,worker,migrate}.ts and the operator
// commands src/adapters/cli/*.ts (to dist/adapters/cli/) with the
// workspace libs inlined and npm packages left external, into services/<name>/dist/.
// Usage: node scripts/build.mjs [--tree <dir>] [services/<name> ...]
// --tree: each service into <dir>/<name>/dist instead, laid out as package.sh's production tree
// (config.yaml, prisma/, package.json and node_modules beside dist) but linked to the workspace's
// files and installed packages, in a second: what the test suite runs its service processes from.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const treeAt = args.indexOf('--tree');
const tree = treeAt === -1 ? undefined : resolve(args.splice(treeAt, 2)[1] ?? '');
const targets = args.length
  ? args.map((p) => resolve(p))
  : readdirSync(join(root, 'services')).map((name) => join(root, 'services', name));

/** Every npm dependency of the service and of the workspace libs, with a folder that declares it. */
function dependencies(serviceDir) {
  const declaredIn = new Map();
  const seen = new Set();
  const collect = (dir) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
      if (name.startsWith('@warden/')) collect(join(root, 'libs', name.slice('@warden/'.length)));
      else if (!declaredIn.has(name)) declaredIn.set(name, dir);
    }
  };
  collect(serviceDir);
  return declaredIn;
}

/**
 * A service's tree under `at` (as package.sh's, for a dist/ built there): its own files linked,
 * and each npm package it or a lib it uses depends on linked from where pnpm installed it for
 * the package that declares it (a lib's dependencies are not in the service's node_modules).
 */
function linkTree(serviceDir, at, declaredIn) {
  for (const file of ['package.json', 'config.yaml', 'prisma'])
    if (existsSync(join(serviceDir, file))) symlinkSync(join(serviceDir, file), join(at, file));
  for (const [name, dir] of declaredIn) {
    const installed = join(dir, 'node_modules', name);
    if (!existsSync(installed)) continue; // an optional peer nothing installed
    mkdirSync(dirname(join(at, 'node_modules', name)), { recursive: true });
    symlinkSync(realpathSync(installed), join(at, 'node_modules', name));
  }
}

/**
 * npm packages stay external (node_modules beside dist/), as packages without side effects on
 * import: an import whose bindings nothing in the entry uses is dropped instead of kept, so a
 * process never loads a package for code of a shared lib it does not run (a worker bundles
 * @warden/grpc's server module for its health server, but not the reflection service it sets up:
 * @grpc/reflection, @grpc/proto-loader and protobufjs stay unloaded; user-service's worker does
 * not load the argon2 addon for the parameters in its config). esbuild would drop an import made
 * only for its side effects (`import 'x'`) without a word: such an import fails the build.
 */
function externalPackages(names) {
  const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const filter = new RegExp(`^(${escaped.join('|')})(/.*)?$`);
  return {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, external: true, sideEffects: false }));
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const bare = [...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)]
          .map((match) => match[1])
          .filter((name) => filter.test(name));
        if (!bare.length) return undefined;
        return {
          errors: bare.map((name) => ({
            text: `${args.path}: import '${name}' would be dropped: npm packages are bundled as side-effect-free (scripts/build.mjs); import what you use from it`,
          })),
        };
      });
    },
  };
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
  const declaredIn = dependencies(dir);
  const home = tree ? join(tree, basename(dir)) : dir;
  if (tree) {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    linkTree(dir, home, declaredIn);
  }
  await build({
    entryPoints,
    outdir: join(home, 'dist'),
    outbase: join(dir, 'src'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // The maps give stack traces their TS file:line (--enable-source-maps); the sources themselves
    // are left out: node would keep them in every process's heap (1.2 MB of strings) for nothing.
    sourcemap: true,
    sourcesContent: false,
    plugins: [externalPackages([...declaredIn.keys()])],
    // Bundled ESM still needs require() for CommonJS packages it imports dynamically.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  // The reflection descriptor set is read at run time from <service>/descriptor.binpb.
  copyFileSync(join(root, 'libs', 'proto', 'descriptor.binpb'), join(home, 'descriptor.binpb'));
  console.log(
    `built ${tree ? home : `${dir.slice(root.length + 1)}/dist`} (${entryPoints.length} entries)`,
  );
}

if (tree) process.exit(0);

// The same descriptor set for Envoy's grpc_json_transcoder (deploy/envoy), as a build artifact.
mkdirSync(join(root, 'dist'), { recursive: true });
copyFileSync(join(root, 'libs', 'proto', 'descriptor.binpb'), join(root, 'dist', 'warden.binpb'));
console.log('built dist/warden.binpb (descriptor set for deploy/envoy)');
