#!/usr/bin/env bash
# Makes sure Postgres (127.0.0.1:5432) answers, starting (or, as root, installing) it when it does
# not, and that the nats-server binary is there (installed as root when missing): the tests and
# the stack start their own nats-server with warden's users and permissions (deploy/nats), never
# an open one. Used by the test and stack commands.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 50); do port_open "$1" && return 0; sleep 0.2; done
  echo "ensure-infra: nothing answers on 127.0.0.1:$1 after 10 s ($2)" >&2
  return 1
}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ensure-infra: installing $* from Debian's packages" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "ensure-infra: $* missing; install it (apt-get install $*)" >&2
    return 1
  fi
}

if [ -z "${DATABASE_URL:-}" ] && ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 postgres
fi

if [ -z "${NATS_URL:-}" ] && ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  apt_install nats-server
fi
