// Code generation: ts-proto clients and the reflection descriptor set from proto/, and each
// service's Prisma client. Offline: buf runs local plugins; prisma generate never runs the engine.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, cwd = root, env = {}) =>
  execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });

run(bin('buf'), ['generate']);
run(bin('buf'), ['build', '-o', 'libs/proto/descriptor.binpb']);

for (const service of readdirSync(join(root, 'services'))) {
  const dir = join(root, 'services', service);
  if (!existsSync(join(dir, 'prisma', 'schema.prisma'))) continue;
  // prisma generate only checks that a schema engine path exists; it does not run it.
  run(bin('prisma'), ['generate'], dir, {
    PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  });
}
