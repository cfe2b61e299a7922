#!/usr/bin/env bash
# buf breaking against main: on a branch, against main's tip; on main itself, against the parent
# commit, so a change that lands on main is still checked against what main had.
set -euo pipefail
cd "$(dirname "$0")/.."
branch=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo main)
if [ "$branch" = main ] || [ "$branch" = HEAD ]; then ref=HEAD~1; else ref=main; fi
if ! git rev-parse -q --verify "$ref" >/dev/null || [ -z "$(git ls-tree -r --name-only "$ref" -- proto/warden 2>/dev/null)" ]; then
  echo "buf breaking: $ref has no protos yet; nothing to compare"
  exit 0
fi
npx buf breaking --against ".git#ref=$(git rev-parse "$ref")"
