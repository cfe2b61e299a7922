#!/usr/bin/env bash
# Production tree of one service: generated code, the esbuild bundle (dist/main.js, worker.js,
# migrate.js, adapters/cli/*.js) and its production dependencies, flat (hoisted), in OUT, less any package
# nothing it runs can reach (scripts/prune-production-tree.mjs) and the packages' source maps.
# Usage: bash scripts/package.sh <user-service|session-service|authz-service> <out-dir>
set -euo pipefail
cd "$(dirname "$0")/.."
service=${1:?service name}
out=${2:?output directory}
[ -d "services/$service" ] || { echo "package: no services/$service" >&2; exit 2; }
export PRISMA_HIDE_UPDATE_MESSAGE=1
[ -f libs/proto/descriptor.binpb ] || node scripts/generate.mjs
node scripts/build.mjs "services/$service"
rm -rf "$out"
pnpm=(pnpm); command -v pnpm >/dev/null || pnpm=(npx -y pnpm@10)
"${pnpm[@]}" --filter "@warden/$service" deploy --prod --legacy --config.node-linker=hoisted "$out" >/dev/null
rm -rf "$out/src" "$out/test"
node scripts/prune-production-tree.mjs "$out"
# The packages' own source maps: with --enable-source-maps node reads and keeps the map of every
# module it loads (about 2 MB of each process's heap) for frames inside the packages' own code.
# The bundle's map (dist/*.js.map) stays: stack traces name the service's TS files and lines.
find "$out/node_modules" -name '*.map' -type f -delete
echo "package: $service in $out"
