#!/usr/bin/env bash
# The whole test suite from a clean checkout: install, generate, static checks, every vitest tier
# (unit, component, integration on the real Postgres and nats-server, cross-service e2e).
# Ends with one line "N passed, N failed" summing every suite; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PRISMA_HIDE_UPDATE_MESSAGE=1 NPM_CONFIG_UPDATE_NOTIFIER=false
PNPM=(npx -y pnpm@10)
mkdir -p .warden
passed=0
failed=0

step() { # name, command...
  local name=$1; shift
  echo "::: $name"
  if "$@"; then passed=$((passed + 1)); echo "::: $name: ok"; else failed=$((failed + 1)); echo "::: $name: FAILED"; fi
}

finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ "${CI:-}" = true ]; then install=("${PNPM[@]}" install --frozen-lockfile); else install=("${PNPM[@]}" install); fi
"${install[@]}" || { failed=$((failed + 1)); echo "install failed"; finish; }
node scripts/generate.mjs || { failed=$((failed + 1)); echo "code generation failed"; finish; }
# An embedded Postgres, when one is started (no Postgres here), lives until this script exits.
infra=$(bash scripts/ensure-infra.sh --owner $$) || { failed=$((failed + 1)); echo "Postgres or nats-server unavailable"; finish; }
eval "$infra"

# The static checks are independent and mostly single-threaded (about 100 s of CPU, 80 s of wall
# clock one after another on two cores): they run side by side, each printed whole when done.
checks=$(mktemp -d)
pids=()
check() { # name, command...: in the background, its output and exit code kept under $checks
  local name=$1; shift
  ("$@" > "$checks/$name.out" 2>&1; echo $? > "$checks/$name.rc") &
  pids+=($!)
}
check typecheck npx tsc -p tsconfig.json --noEmit
check eslint npx eslint --max-warnings 0 .
check layering npx depcruise --config .dependency-cruiser.cjs libs services
check buf-lint npx buf lint
check buf-breaking bash scripts/buf-breaking.sh
check format npx prettier --check --log-level warn .
wait "${pids[@]}"
for name in typecheck eslint layering buf-lint buf-breaking format; do
  step "$name" sh -c 'cat "$1.out"; exit "$(cat "$1.rc")"' sh "$checks/$name"
done
rm -rf "$checks"

rm -f .warden/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.warden/vitest.json
if [ -f .warden/vitest.json ]; then
  # Failed tests, plus files that failed without a failing test (an import or hook error).
  read -r tp tf < <(node -e "const r=require('./.warden/vitest.json');const broken=r.testResults.filter(f=>f.status==='failed'&&!f.assertionResults.some(a=>a.status==='failed')).length;console.log(r.numPassedTests, r.numFailedTests+broken)")
  passed=$((passed + tp)); failed=$((failed + tf))
  [ "$tp" -gt 0 ] || failed=$((failed + 1))
else
  failed=$((failed + 1))
fi
finish
