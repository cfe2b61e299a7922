// Deletes from a production tree (pnpm deploy, hoisted node_modules) every package that nothing
// the service runs can reach: walking from its package.json through dependencies, optional
// dependencies and required peers, resolved as Node resolves them. pnpm's deploy also installs
// optional peers that the workspace root happens to have (the Prisma CLI and TypeScript for
// @prisma/client), which the service never loads and which made up most of the image.
// Usage: node scripts/prune-production-tree.mjs <dir>
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = process.argv[2];
if (!root || !existsSync(join(root, 'package.json'))) {
  console.error('usage: node scripts/prune-production-tree.mjs <dir with package.json>');
  process.exit(2);
}

const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Where `name` resolves from a package in `from`: the nearest node_modules up to the root. */
function resolve(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/** The names a package needs at run time: dependencies, optional ones, non-optional peers. */
function needs(pkg) {
  const optionalPeers = new Set(
    Object.entries(pkg.peerDependenciesMeta ?? {})
      .filter(([, meta]) => meta?.optional)
      .map(([name]) => name),
  );
  return [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
  ];
}

const reached = new Set();
const queue = [root];
while (queue.length) {
  const dir = queue.pop();
  for (const name of needs(manifest(dir))) {
    const found = resolve(name, dir);
    // A missing optional dependency (another platform's binary) is normal.
    if (found && !reached.has(found)) {
      reached.add(found);
      queue.push(found);
    }
  }
}

/** Every package directory in a node_modules folder (scoped ones included). */
function packagesIn(modules) {
  if (!existsSync(modules)) return [];
  return readdirSync(modules)
    .filter((entry) => !entry.startsWith('.'))
    .flatMap((entry) =>
      entry.startsWith('@')
        ? readdirSync(join(modules, entry)).map((name) => join(modules, entry, name))
        : [join(modules, entry)],
    );
}

let removed = 0;
const sweep = (modules) => {
  for (const dir of packagesIn(modules)) {
    if (reached.has(dir)) sweep(join(dir, 'node_modules'));
    else {
      rmSync(dir, { recursive: true, force: true });
      removed++;
    }
  }
};
sweep(join(root, 'node_modules'));
// Scope folders left empty, and command links to what is gone.
for (const entry of existsSync(join(root, 'node_modules'))
  ? readdirSync(join(root, 'node_modules'))
  : [])
  if (entry.startsWith('@') && readdirSync(join(root, 'node_modules', entry)).length === 0)
    rmSync(join(root, 'node_modules', entry), { recursive: true });
rmSync(join(root, 'node_modules', '.bin'), { recursive: true, force: true });
console.log(`prune: kept ${reached.size} packages, removed ${removed} unreachable`);
