#!/usr/bin/env bash
# Brings the whole stack up on this machine: packages, code generation, Postgres and nats-server,
# migrations, then every service and its worker in the foreground (Ctrl-C stops them all).
set -euo pipefail
cd "$(dirname "$0")/.."
export PRISMA_HIDE_UPDATE_MESSAGE=1
npx -y pnpm@10 install --prefer-offline
node scripts/generate.mjs
bash scripts/ensure-infra.sh
exec node_modules/.bin/tsx scripts/stack.ts "$@"
