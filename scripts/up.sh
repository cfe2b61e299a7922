#!/usr/bin/env bash
# Brings the whole stack up on this machine: packages, code generation, Postgres and nats-server,
# migrations, then every service and its worker in the foreground (Ctrl-C stops them all).
# `bash scripts/up.sh --replicas 2`: two of every process and a 3-node NATS cluster (scripts/stack.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export PRISMA_HIDE_UPDATE_MESSAGE=1
npx -y pnpm@10 install --prefer-offline
node scripts/generate.mjs
# An embedded Postgres, when one is started, lives as long as this process (the stack, after exec).
infra=$(bash scripts/ensure-infra.sh --owner $$)
eval "$infra"
exec node_modules/.bin/tsx scripts/stack.ts "$@"
